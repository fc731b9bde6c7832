package main

import "github.com/go-zookeeper/zk"

var worldACL = zk.WorldACL(zk.PermAll)
