#include "textflag.h"

// func currentPages() int32
TEXT ·currentPages(SB), NOSPLIT, $0-4
	Get SP
	CurrentMemory
	I32Store ret+0(FP)
	RET
