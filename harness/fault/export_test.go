package fault

// Exported for the tests of package fault_test.
var (
	SumDropped = sumDropped
	QdiscSent  = qdiscSent
)
