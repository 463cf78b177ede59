package runtime

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

var zzOn bool
var zzMu sync.Mutex
var zzSelf = map[string]time.Duration{}
var zzIncl = map[string]time.Duration{}
var zzN = map[string]int{}
var zzStack []zzFrame

type zzFrame struct {
	name  string
	start time.Time
	child time.Duration
}

type zzL struct{}

func (zzL) NewFunctionListener(d api.FunctionDefinition) experimental.FunctionListener { return zzL{} }
func (zzL) Before(ctx context.Context, _ api.Module, d api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if !zzOn {
		return
	}
	zzStack = append(zzStack, zzFrame{name: d.DebugName(), start: time.Now()})
}
func (zzL) After(ctx context.Context, _ api.Module, d api.FunctionDefinition, _ []uint64) {
	if !zzOn || len(zzStack) == 0 {
		return
	}
	f := zzStack[len(zzStack)-1]
	zzStack = zzStack[:len(zzStack)-1]
	el := time.Since(f.start)
	zzIncl[f.name] += el
	zzSelf[f.name] += el - f.child
	zzN[f.name]++
	if len(zzStack) > 0 {
		zzStack[len(zzStack)-1].child += el
	}
}
func (l zzL) Abort(ctx context.Context, m api.Module, d api.FunctionDefinition, _ error) { l.After(ctx, m, d, nil) }

var zzOut *os.File
var zzFrom, zzTo = 1 << 30, 0
var zzProf bool

func init() {
	b, err := os.ReadFile("/tmp/bulk19/ZZPROF")
	if err != nil {
		return
	}
	fmt.Sscan(string(b), &zzProf, &zzFrom, &zzTo)
	zzOut, _ = os.OpenFile("/tmp/bulk19/prof.out", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
}

func zzWith(ctx context.Context) context.Context {
	if !zzProf {
		return ctx
	}
	return experimental.WithFunctionListenerFactory(ctx, zzL{})
}

func ZZDump() {
	type kv struct {
		k string
		v time.Duration
	}
	var s []kv
	for k, v := range zzSelf {
		s = append(s, kv{k, v})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].v > s[j].v })
	for i, e := range s {
		if i > 40 {
			break
		}
		fmt.Fprintf(zzOut, "SELF %10v incl %10v n=%7d %s\n", e.v, zzIncl[e.k], zzN[e.k], e.k)
	}
	var t []kv
	for k, v := range zzIncl {
		t = append(t, kv{k, v})
	}
	sort.Slice(t, func(i, j int) bool { return t[i].v > t[j].v })
	for i, e := range t {
		if i > 60 {
			break
		}
		fmt.Fprintf(zzOut, "INCL %10v n=%7d %s\n", e.v, zzN[e.k], e.k)
	}
}

func zzGOGC() string {
	b, _ := os.ReadFile("/tmp/bulk19/GOGC")
	return strings.TrimSpace(string(b))
}
