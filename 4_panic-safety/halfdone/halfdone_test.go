package main

import (
	"concurrencylab/internal/labtest"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// answerWait bounds every request: a live server answers in microseconds,
// and one that has not answered in a second has hung.
const answerWait = time.Second

// TestInvariantHolds: until the poison, every answer leaves currSize equal
// to the bytes actually stored, refusals included.
func TestInvariantHolds(t *testing.T) {
	base, _ := labtest.ServeRecovering(t, newHandler(newByteCache(5)))

	for _, tc := range []struct {
		key, value string
		code       int
		body       string
	}{
		{"a", "x", http.StatusCreated, "stored\n"},
		{"b", "yy", http.StatusCreated, "stored\n"},
		{"a", "z", http.StatusConflict, "key exists\n"},
		{"c", "zzz", http.StatusInsufficientStorage, "cache full: 3 of 5 bytes used, no room for 3 more\n"},
		{"d", strings.Repeat("v", maxValueBytes+1), http.StatusRequestEntityTooLarge, "value over 1024 bytes\n"},
		{strings.Repeat("k", maxKeyBytes+1), "v", http.StatusBadRequest, "key over 128 bytes\n"},
		{"e", "", http.StatusCreated, "stored\n"},
		{"c", "zz", http.StatusCreated, "stored\n"},
	} {
		code, body, err := labtest.Do(t.Context(), "PUT", base+"/cache/"+tc.key, tc.value, answerWait)
		require.NoError(t, err, "PUT %.10s", tc.key)
		assert.Equal(t, tc.code, code, "PUT %.10s", tc.key)
		assert.Equal(t, tc.body, body, "PUT %.10s", tc.key)
	}

	code, body, err := labtest.Do(t.Context(), "GET", base+"/cache/b", "", answerWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "yy", body)

	code, body, err = labtest.Do(t.Context(), "GET", base+"/cache/nope", "", answerWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "not found\n", body)

	assert.JSONEq(t, `{"max_size":5,"curr_size":5,"actual_size":5}`, stats(t, base))
}

// TestPoisonBreaksInvariant is the seed's "watch it burn": the panic frees
// the mutex (the unlock is deferred), but it comes after currSize was
// counted and before the data was stored. net/http recovers it and serves
// on, from a cache that counts 3 bytes it does not hold.
func TestPoisonBreaksInvariant(t *testing.T) {
	base, logs := labtest.ServeRecovering(t, newHandler(newByteCache(5)))

	for _, key := range []string{"watch", "it"} {
		code, body, err := labtest.Do(t.Context(), "PUT", base+"/cache/"+key, "x", answerWait)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, body)
	}
	assert.JSONEq(t, `{"max_size":5,"curr_size":2,"actual_size":2}`, stats(t, base))

	// The poison. The handler panics, and net/http closes the connection
	// without an answer (curl: "Empty reply from server").
	code, _, err := labtest.Do(t.Context(), "PUT", base+"/cache/burn", "abc", answerWait)
	require.ErrorIs(t, err, io.EOF, "the poison got an answer, status %d", code)
	assert.Contains(t, logs.String(), "http: panic serving")
	assert.Contains(t, logs.String(), "some programmers just want to watch the world burn")

	// The mutex is free: /stats answers (within answerWait). But the count
	// includes the 3 bytes of "burn", which were never stored.
	assert.JSONEq(t, `{"max_size":5,"curr_size":5,"actual_size":2}`, stats(t, base))
	code, _, err = labtest.Do(t.Context(), "GET", base+"/cache/burn", "", answerWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, code)

	// So the cache is full with 2 bytes of 5 stored, and stays so: a 1-byte
	// value of a new key is refused.
	code, body, err := labtest.Do(t.Context(), "PUT", base+"/cache/more", "x", answerWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInsufficientStorage, code)
	assert.Equal(t, "cache full: 5 of 5 bytes used, no room for 1 more\n", body)
}

// stats returns the body of GET /stats.
func stats(t *testing.T, base string) string {
	t.Helper()
	code, body, err := labtest.Do(t.Context(), "GET", base+"/stats", "", answerWait)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)
	return body
}
