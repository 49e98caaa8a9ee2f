package notifyapi

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"concurrencylab/internal/scenario"
)

func TestWithinKeepsTheFailure(t *testing.T) {
	err := within("event 2 of 258: ", scenario.HungRequest.Errorf("POST /resources got no answer within 5s"))
	assert.EqualError(t, err, "hung: event 2 of 258: POST /resources got no answer within 5s", "the marker first")
	assert.True(t, scenario.HungRequest.In(err))
	assert.Equal(t, scenario.Hung, scenario.VerdictOf(err))
	assert.Equal(t, "event 2 of 258: POST /resources got no answer within 5s", scenario.Explain(err), "the evidence says it all")

	err = within("subscribing: ", io.EOF)
	assert.EqualError(t, err, "subscribing: EOF")
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, scenario.Broken, scenario.VerdictOf(err))
}

func TestSubject(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range Subject.Scenarios {
		assert.False(t, names[sc.Name], "%s twice", sc.Name)
		names[sc.Name] = true
	}
	for _, c := range Subject.Battery.Cases {
		assert.True(t, c.Status >= 400 && c.Status < 500, "%s: %d is not a 4xx", c, c.Status)
	}
}
