//go:build lab

package countercheck

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ms is a time in a hand-made history.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func set(client int, name string, val int64, call, ret int) Op {
	return Op{Client: client, Kind: "set", Name: name, Val: val, Call: ms(call), Return: ms(ret), Status: http.StatusOK}
}

func inc(client int, name string, call, ret int) Op {
	return Op{Client: client, Kind: "inc", Name: name, Call: ms(call), Return: ms(ret), Status: http.StatusOK}
}

func get(client int, name string, val int64, call, ret int) Op {
	return Op{Client: client, Kind: "get", Name: name, Call: ms(call), Return: ms(ret), Status: http.StatusOK, Value: val}
}

func TestHistoryLinearizable(t *testing.T) {
	ops := []Op{
		set(0, "i", 0, 0, 1),
		inc(0, "i", 2, 6), inc(1, "i", 3, 5),
		get(2, "i", 1, 4, 7), // concurrent with both increments: 1 is one order
		get(0, "i", 2, 8, 9),
		{Client: 1, Kind: "inc", Name: "i", Call: ms(10), Return: ms(11)}, // no answer: may have happened
		get(2, "i", 3, 12, 13),
		get(0, "nobody", 0, 14, 15),
	}
	ops[len(ops)-1].Status = http.StatusNotFound
	check := CheckHistory(ops, time.Second)
	assert.Equal(t, Linearizable, check.Outcome)
	assert.Nil(t, FirstWrong(ops))
}

func TestHistoryLostUpdate(t *testing.T) {
	ops := []Op{
		set(0, "i", 0, 0, 1),
		inc(0, "i", 2, 4), inc(1, "i", 3, 5),
		get(0, "i", 1, 6, 7),
		get(1, "i", 1, 8, 9), // never catches up
	}
	assert.Equal(t, NotLinearizable, CheckHistory(ops, time.Second).Outcome)
	w := FirstWrong(ops)
	require.NotNil(t, w)
	assert.Equal(t, "lost update", w.Kind)
	assert.Equal(t, "GET /get?name=i sent at 0.006s answered 1, but 2 increments had been answered before it was sent, and no later read counted them", w.Detail)
}

func TestHistoryStaleRead(t *testing.T) {
	ops := []Op{
		set(0, "i", 1000, 0, 1),
		inc(0, "i", 2, 4), inc(1, "i", 3, 5),
		get(2, "i", 1002, 4, 5), // concurrent: could be either
		get(0, "i", 1000, 1204, 1206),
		get(1, "i", 1002, 1300, 1301),
	}
	assert.Equal(t, NotLinearizable, CheckHistory(ops, time.Second).Outcome)
	w := FirstWrong(ops)
	require.NotNil(t, w)
	assert.Equal(t, "stale read", w.Kind)
	assert.Equal(t, "GET /get?name=i sent at 1.204s answered 1000, but 2 increments had been answered before it was sent (i was set to 1000 at 0.001s)", w.Detail)

	// Older than a read already seen, with no increment answered before it.
	ops = []Op{
		set(0, "j", 0, 0, 1),
		inc(0, "j", 2, 20),
		get(1, "j", 1, 3, 4),
		get(2, "j", 0, 5, 6),
	}
	assert.Equal(t, NotLinearizable, CheckHistory(ops, time.Second).Outcome)
	w = FirstWrong(ops)
	require.NotNil(t, w)
	assert.Equal(t, "stale read", w.Kind)
	assert.Equal(t, "GET /get?name=j sent at 0.005s answered 0, but a read that ended before it was sent had answered 1", w.Detail)
}

func TestHistoryValueNeverWritten(t *testing.T) {
	ops := []Op{
		set(0, "i", 0, 0, 1),
		inc(0, "i", 2, 3),
		get(1, "i", 5, 4, 5),
	}
	assert.Equal(t, NotLinearizable, CheckHistory(ops, time.Second).Outcome)
	w := FirstWrong(ops)
	require.NotNil(t, w)
	assert.Equal(t, "a value never written", w.Kind)
	assert.Equal(t, "GET /get?name=i sent at 0.004s answered 5, but only 1 increment had been sent before it was answered", w.Detail)
}

// TestHistoryTooLarge: 200 increments all at once and a read that no
// order explains. Proving that takes a search of every subset of the
// increments: the check runs out of time, and says so.
func TestHistoryTooLarge(t *testing.T) {
	ops := []Op{set(0, "i", 0, 0, 1)}
	for c := range 200 {
		ops = append(ops, inc(c, "i", 2, 1000))
		ops = append(ops, get(c, "i", int64(c%50), 2, 1000))
	}
	ops = append(ops, get(0, "i", -1, 2, 1000))
	check := CheckHistory(ops, 50*time.Millisecond)
	assert.Equal(t, Unknown, check.Outcome)
}

// TestHistoryDrawn: a wrong history is drawn as porcupine's HTML, with the
// first wrong answer marked.
func TestHistoryDrawn(t *testing.T) {
	ops := []Op{
		set(0, "i", 0, 0, 1),
		inc(0, "i", 2, 4),
		get(1, "i", 0, 5, 6),
		get(1, "i", 1, 7, 8),
	}
	check := CheckHistory(ops, time.Second)
	require.Equal(t, NotLinearizable, check.Outcome)
	path := filepath.Join(t.TempDir(), "history.html")
	w := FirstWrong(ops)
	require.NotNil(t, w)
	require.NoError(t, check.Draw(path, w))
	html, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(html), "first wrong answer")
	assert.Contains(t, string(html), "get(i) → 0")
}
