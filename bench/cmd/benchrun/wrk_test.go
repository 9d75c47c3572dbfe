package main

import (
	"testing"
	"time"
)

func TestParseWrkReadsReportLine(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:1/api/v4/system/ping
  2 threads and 64 connections
Requests/sec:  12000.00
BENCHJSON {"requests":60000,"duration_us":5000000,"bytes":1000,"p50_us":900,"p90_us":2000,"p99_us":4500,"max_us":9000,"err_connect":0,"err_read":1,"err_write":0,"err_status":2,"err_timeout":3}
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps() != 12000 || r.P99US != 4500 || r.errors() != 6 {
		t.Fatalf("parsed rps %v p99 %v errors %d; want 12000, 4500, 6", r.rps(), r.P99US, r.errors())
	}
}

func TestParseWrkWithoutReportLineFails(t *testing.T) {
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Fatal("parseWrk accepted output without the BENCHJSON line")
	}
}

func TestWrkDurationIsWholeSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Second: "5s", 300 * time.Millisecond: "1s", 2500 * time.Millisecond: "3s"} {
		if got := wrkDuration(d); got != want {
			t.Errorf("wrkDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
