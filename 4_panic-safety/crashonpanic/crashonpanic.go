// Package crashonpanic is middleware that turns a panic in a handler into a
// crash: it logs the panic and its stack with log/slog and exits the
// process with ExitCode, so that a supervisor (systemd's Restart=on-failure,
// Kubernetes, a shell loop) starts a clean process instead of this one going
// on serving from state that the panic left half-changed, or a mutex it
// left locked.
//
// net/http recovers a handler's panic and keeps serving, and so does chi's
// middleware.Recoverer; that is right only if no shared state could have
// been caught halfway, which is hard to know. This middleware decides the
// other way. It does not see a panic in a goroutine that a handler started:
// nothing recovers that, and the process dies anyway.
package crashonpanic

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
)

// ExitCode is the status the process exits with after a panic: 70,
// EX_SOFTWARE in sysexits.h ("internal software error"), distinct from the
// 2 of a panic nothing recovered and the 1 of a server that could not start.
const ExitCode = 70

// Middleware returns middleware, usable with chi's r.Use, that exits the
// process on a panic in next. It logs the panic's value, the request, and
// the stack to logger, calls flush (if not nil) so that nothing logged is
// lost in a buffer, and exits with ExitCode.
//
// A panic with http.ErrAbortHandler passes through: that is a handler
// aborting its response on purpose, which net/http handles quietly.
func Middleware(logger *slog.Logger, flush func() error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				crash(logger, flush, r, v, debug.Stack())
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func crash(logger *slog.Logger, flush func() error, r *http.Request, v any, stack []byte) {
	logger.Error("panic in a handler: exiting so a clean process can take over",
		"panic", fmt.Sprint(v), "method", r.Method, "uri", r.RequestURI, "exit", ExitCode)
	logger.Error("panic stack", "stack", string(stack))
	if flush != nil {
		flush()
	}
	os.Exit(ExitCode)
}
