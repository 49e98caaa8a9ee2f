package counterapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// MaxNameLen is the longest counter name accepted, in bytes.
const MaxNameLen = 128

// NewHandler serves the counter contract over s:
//
//	GET|POST /set?name=N&val=V  200 "ok"
//	GET      /get?name=N        200 "N: V", or 404 "N not found"
//	GET|POST /inc?name=N        200 "ok", or 404 "N not found", or 409 at math.MaxInt64
//
// Bad input gets a 4xx with a one-line message and changes nothing.
func NewHandler(s Store) http.Handler {
	h := &handler{store: s}
	r := chi.NewRouter()
	r.Get("/get", h.get)
	r.Get("/set", h.set)
	r.Post("/set", h.set)
	r.Get("/inc", h.inc)
	r.Post("/inc", h.inc)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown path "+r.URL.Path+": use /set, /get or /inc", http.StatusNotFound)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, r.Method+" not allowed on "+r.URL.Path, http.StatusMethodNotAllowed)
	})
	return r
}

type handler struct {
	store Store
}

func (h *handler) set(w http.ResponseWriter, r *http.Request) {
	name, ok := nameParam(w, r)
	if !ok {
		return
	}
	val, ok := valParam(w, r)
	if !ok {
		return
	}
	if err := h.store.Set(r.Context(), name, val); err != nil {
		storeError(w, name, err)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	name, ok := nameParam(w, r)
	if !ok {
		return
	}
	val, err := h.store.Get(r.Context(), name)
	if err != nil {
		storeError(w, name, err)
		return
	}
	fmt.Fprintf(w, "%s: %d\n", name, val)
}

func (h *handler) inc(w http.ResponseWriter, r *http.Request) {
	name, ok := nameParam(w, r)
	if !ok {
		return
	}
	if err := h.store.Inc(r.Context(), name); err != nil {
		storeError(w, name, err)
		return
	}
	fmt.Fprintln(w, "ok")
}

// nameParam returns the request's counter name, or answers 400 and false.
func nameParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.URL.Query().Get("name")
	switch {
	case name == "":
		http.Error(w, "missing name: add ?name=N", http.StatusBadRequest)
		return "", false
	case len(name) > MaxNameLen:
		http.Error(w, fmt.Sprintf("name is %d bytes; the limit is %d", len(name), MaxNameLen), http.StatusBadRequest)
		return "", false
	}
	return name, true
}

// valParam returns the request's int64 value, or answers 400 and false.
func valParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	q := r.URL.Query()
	if !q.Has("val") {
		http.Error(w, "missing val: add &val=V", http.StatusBadRequest)
		return 0, false
	}
	val, err := strconv.ParseInt(q.Get("val"), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		http.Error(w, "val is out of int64 range", http.StatusBadRequest)
		return 0, false
	case err != nil:
		http.Error(w, "val is not an integer", http.StatusBadRequest)
		return 0, false
	}
	return val, true
}

// storeError answers a Store error with its status and a one-line message.
func storeError(w http.ResponseWriter, name string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		http.Error(w, name+" not found", http.StatusNotFound)
	case errors.Is(err, ErrOverflow):
		http.Error(w, name+" is at the int64 maximum; not incremented", http.StatusConflict)
	default:
		// The store gave up: the request's context ended or the store stopped.
		http.Error(w, "counter store unavailable: "+err.Error(), http.StatusServiceUnavailable)
	}
}
