//go:build lab

package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// abCSV is what ab -q -r -l -n 2000 -c 50 -k -e FILE (ApacheBench 2.3)
// wrote against the no-op baseline on loopback: its report's table said
// 50% in 1 ms and 99% in 4.
const abCSV = `Percentage served,Time in ms
0,0.009
1,0.010
2,0.010
3,0.012
4,0.014
5,0.017
6,0.027
7,0.053
8,0.073
9,0.104
10,0.141
11,0.169
12,0.205
13,0.212
14,0.251
15,0.273
16,0.296
17,0.330
18,0.345
19,0.362
20,0.372
21,0.388
22,0.411
23,0.434
24,0.446
25,0.460
26,0.479
27,0.490
28,0.499
29,0.514
30,0.524
31,0.530
32,0.539
33,0.547
34,0.554
35,0.562
36,0.570
37,0.577
38,0.583
39,0.590
40,0.597
41,0.603
42,0.610
43,0.618
44,0.626
45,0.634
46,0.641
47,0.648
48,0.655
49,0.661
50,0.666
51,0.674
52,0.683
53,0.690
54,0.697
55,0.705
56,0.714
57,0.721
58,0.731
59,0.742
60,0.752
61,0.762
62,0.776
63,0.798
64,0.826
65,0.849
66,0.870
67,0.885
68,0.902
69,0.938
70,0.960
71,0.992
72,1.028
73,1.063
74,1.089
75,1.124
76,1.153
77,1.214
78,1.240
79,1.272
80,1.321
81,1.392
82,1.552
83,1.763
84,1.903
85,1.954
86,1.989
87,2.017
88,2.048
89,2.082
90,2.123
91,2.160
92,2.183
93,2.238
94,2.371
95,2.687
96,2.907
97,3.030
98,4.080
99,4.213
100,4.471
`

func TestParseABPercentiles(t *testing.T) {
	lines := strings.Split(abCSV, "\n")
	for _, tc := range []struct {
		name     string
		csv      string
		p50, p99 time.Duration
		err      string
	}{
		{name: "ab's CSV", csv: abCSV, p50: 666 * time.Microsecond, p99: 4213 * time.Microsecond},
		{name: "CRLF, no header", csv: "50,0.042\r\n99,1.5\r\n", p50: 42 * time.Microsecond, p99: 1500 * time.Microsecond},
		{name: "empty", csv: "", err: "empty"},
		{name: "header only", csv: lines[0] + "\n", err: "no 50% line"},
		{name: "cut short", csv: strings.Join(lines[:80], "\n"), err: "no 99% line"},
		{name: "the report instead", csv: "Percentage of the requests served within a certain time (ms)\n  50%      1\n", err: "line 1"},
		{name: "garbled", csv: lines[0] + "\n50,fast\n", err: `line 2 is not "percent,milliseconds": "50,fast"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p50, p99, err := parseABPercentiles(tc.csv)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Zero(t, p50)
				assert.Zero(t, p99)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.p50, p50)
			assert.Equal(t, tc.p99, p99)
		})
	}
}

// A CSV that ab did not write is an error that says so, not a zero latency.
func TestReadABPercentilesMissing(t *testing.T) {
	_, _, err := readABPercentiles(filepath.Join(t.TempDir(), "none.csv"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ab's latencies could not be read from its -e CSV")
}
