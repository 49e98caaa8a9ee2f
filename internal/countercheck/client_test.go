//go:build lab

package countercheck

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/scenario"
)

func TestParseCount(t *testing.T) {
	for line, want := range map[string]int64{
		"i: 0": 0, "i: 42": 42, "i: -7": -7, "i: 9223372036854775807": 9223372036854775807,
	} {
		val, err := ParseCount("i", line)
		require.NoError(t, err, line)
		assert.Equal(t, want, val, line)
	}
	for _, line := range []string{"", "i 1", "j: 1", "i: ", "i: x", "i: +1", "i: 01", "i: 1 ", "i: 9223372036854775808"} {
		_, err := ParseCount("i", line)
		assert.Error(t, err, "%q", line)
	}
}

func TestClient(t *testing.T) {
	ts := httptest.NewServer(counterapi.NewHandler(&mutexStore{counters: counterapi.InitialCounters()}))
	defer ts.Close()
	c := NewClient(&scenario.Target{URL: ts.URL, Client: ts.Client()}, scenario.AnswerWait)
	ctx := t.Context()

	require.NoError(t, c.Set(ctx, "spaces and ünïcode", -3))
	require.NoError(t, c.Inc(ctx, "spaces and ünïcode"))
	val, err := c.Get(ctx, "spaces and ünïcode")
	require.NoError(t, err)
	assert.Equal(t, int64(-2), val)

	_, err = c.Get(ctx, "nobody")
	assert.ErrorIs(t, err, counterapi.ErrNotFound)
	assert.EqualError(t, err, `GET /get?name=nobody answered 404 "nobody not found\n", want 200 "nobody: V"`)
	assert.ErrorIs(t, c.Inc(ctx, "nobody"), counterapi.ErrNotFound)

	require.NoError(t, c.Set(ctx, "max", 9223372036854775807))
	assert.ErrorIs(t, c.Inc(ctx, "max"), counterapi.ErrOverflow)

	err = c.Expect(ctx, "GET", "/get?name=i", 200, "i: 1")
	assert.EqualError(t, err, `GET /get?name=i answered 200 "i: 0\n", want 200 "i: 1"`)
	assert.Equal(t, scenario.Broken, scenario.VerdictOf(err))
}
