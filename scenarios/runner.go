package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/reports"
)

// Narrator tells a person what a scenario run is doing: `zkchaos run` prints it,
// `zkchaos workshop` pauses between steps. Step starts a step — what is about to
// happen and what to look for; Say reports what was seen, as it appears.
type Narrator interface {
	Step(title, format string, a ...any)
	Say(format string, a ...any)
}

// Quiet is a Narrator that says nothing.
type Quiet struct{}

func (Quiet) Step(string, string, ...any) {}
func (Quiet) Say(string, ...any)          {}

// Step is one step of a catalogue entry: it acts on real servers and records
// what it observed, with evidence, in the run's record. It returns an error only
// when it could not do its work (an engine error, a time-out); a failure that
// did not happen is an observation, not an error.
type Step struct {
	// Name says what the step shows; the Ginkgo specs use it as the spec's text.
	Name string
	// Phase says where the step's time goes (zkchaos profile).
	Phase string
	// Timeout bounds the step (the specs' SpecTimeout too).
	Timeout time.Duration
	Do      func(ctx context.Context, r *Run) error
}

// Step phases: where a run's time goes.
const (
	PhaseStart    = "start"    // ensembles started
	PhaseTrigger  = "trigger"  // the fault applied and its failure observed
	PhaseEvidence = "evidence" // more proof that it happened
	PhaseDetect   = "detect"   // the detector run
	PhaseFix      = "fix"      // documented fixes tried
	PhaseCheck    = "check"    // other properties checked
)

// Entry is one scenario of the catalogue: data that the one runner (Run) executes
// for the CLI (`zkchaos run`, `qualify`, `workshop`) and the Ginkgo specs alike.
// The verdict is computed from the observations the steps record
// (reports.Record.judge), and compared with the expected table (Compare).
type Entry struct {
	Name, Title string
	// Minutes is a rough duration per version on 2 cores (measured: make
	// scenarios' profile), for progress messages and the suite's order (longest
	// first).
	Minutes float64
	// Labels are extra Ginkgo labels ("slow": left to `make slow` and to
	// `zkchaos run <name>`; `run all` skips them).
	Labels []string
	// Regression names the upstream fix a regression scenario checks; DocumentedFix
	// names the fix the verdict reports.
	Regression, DocumentedFix string
	// Skip, when set, says the entry has nothing to do on a version.
	Skip func(v harness.Version) bool
	// Plan prepares a run: the scenario's own state and its steps. It starts
	// nothing, so the specs can call it while they build their tree.
	Plan func(r *Run) []Step
}

// Slow says whether the entry is one of the long experiments.
func (e Entry) Slow() bool { return slices.Contains(e.Labels, "slow") }

// Group is the failure an entry belongs to: F1-replay is F1's.
func (e Entry) Group() string {
	g, _, _ := strings.Cut(e.Name, "-")
	return g
}

// Run is one execution of an entry on one version.
type Run struct {
	Entry    Entry
	Version  harness.Version
	Record   *reports.Record
	Steps    []Step
	Narrator Narrator
	Progress io.Writer
	// Seed drives the entry's random choices (F4's random restart orders); the
	// specs set Ginkgo's seed.
	Seed int64
	// OnEnsemble, when set, is told of every ensemble a step starts (the specs
	// keep a failed spec's logs with harness.CleanupEnsemble); Close ends those
	// still running either way.
	OnEnsemble func(*harness.Ensemble)
	// Artifacts, when set, is where a step keeps what explains a failed check
	// (an upgrade's history and porcupine's visualisation).
	Artifacts string

	mu        sync.Mutex
	ensembles []*harness.Ensemble
	current   string
	started   time.Time
}

// Begin prepares a run of e on v; nothing starts until Do or Execute.
func (e Entry) Begin(v harness.Version, n Narrator, progress io.Writer) *Run {
	if n == nil {
		n = Quiet{}
	}
	if progress == nil {
		progress = io.Discard
	}
	r := &Run{Entry: e, Version: v, Narrator: n, Progress: progress,
		Record: reports.New(e.Name, e.Title, v.Version)}
	r.Record.Regression, r.Record.DocumentedFix = e.Regression, e.DocumentedFix
	r.Steps = e.Plan(r)
	return r
}

// Do runs step i.
func (r *Run) Do(ctx context.Context, i int) error {
	st := r.Steps[i]
	r.mu.Lock()
	r.current, r.started = fmt.Sprintf("step %d/%d: %s", i+1, len(r.Steps), st.Name), time.Now()
	r.mu.Unlock()
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	if i == 0 {
		r.Record.MarkStarted()
		r.Record.Figure("seed", float64(r.Seed))
	}
	r.Record.Add(reports.KindStep, "", "%s", st.Name)
	t0 := time.Now()
	err := st.Do(ctx, r)
	r.Record.StepTime(st.Name, st.Phase, time.Since(t0))
	if err != nil {
		return fmt.Errorf("%s: %w", st.Name, err)
	}
	return nil
}

// Current says which step runs and for how long (the CLI's heartbeat).
func (r *Run) Current() (string, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current == "" {
		return "", 0
	}
	return r.current, time.Since(r.started)
}

// Execute runs every step in order, stopping at the first that cannot finish,
// and ends every ensemble the run started. The record is returned either way.
func (r *Run) Execute(ctx context.Context) (*reports.Record, error) {
	var err error
	for i := range r.Steps {
		if err = r.Do(ctx, i); err != nil {
			break
		}
	}
	if cerr := r.Close(ctx); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return r.Record, err
}

// Adopt makes an ensemble a step started part of the run: the record gets a lane
// per node and their states, and Close (or End) removes it.
func (r *Run) Adopt(ens *harness.Ensemble) {
	if ens == nil {
		return
	}
	r.mu.Lock()
	r.ensembles = append(r.ensembles, ens)
	r.mu.Unlock()
	if r.OnEnsemble != nil {
		r.OnEnsemble(ens)
	}
}

// End removes an ensemble now, when a step is done with it.
func (r *Run) End(ctx context.Context, ens *harness.Ensemble) error {
	if ens == nil {
		return nil
	}
	r.mu.Lock()
	for i, e := range r.ensembles {
		if e == ens {
			r.ensembles = append(r.ensembles[:i], r.ensembles[i+1:]...)
			break
		}
	}
	r.mu.Unlock()
	return ens.Terminate(context.WithoutCancel(ctx))
}

// Close removes every ensemble the run still holds, also after cancellation.
func (r *Run) Close(ctx context.Context) error {
	r.mu.Lock()
	ens := r.ensembles
	r.ensembles = nil
	r.mu.Unlock()
	var err error
	for _, e := range ens {
		err = errors.Join(err, e.Terminate(context.WithoutCancel(ctx)))
	}
	return err
}

// step and say narrate through the run's Narrator.
func (r *Run) step(title, format string, a ...any) { r.Narrator.Step(title, format, a...) }
func (r *Run) say(format string, a ...any)         { r.Narrator.Say(format, a...) }
