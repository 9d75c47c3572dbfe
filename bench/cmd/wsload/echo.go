package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/seed331fb32b/chorus/bench/internal/wsframe"
)

// echoRounds runs o.rounds rounds; in each, o.sample sockets spread evenly
// over conns send one message each, their sends spread evenly over
// o.spread, and time the echo. A socket whose echo fails or times out is
// counted as lost and not used again.
func echoRounds(ctx context.Context, o options, conns []*wsConn) ([]time.Duration, int) {
	var (
		mu     sync.Mutex // guards rtts, lost, broken
		rtts   []time.Duration
		lost   int
		broken = make([]bool, len(conns))
	)
	n := min(o.sample, len(conns))
	if n == 0 {
		return nil, 0
	}
	for round := 0; round < o.rounds && ctx.Err() == nil; round++ {
		start := time.Now()
		var wg sync.WaitGroup
		for k := 0; k < n; k++ {
			i := k * len(conns) / n // every (len/n)-th socket
			mu.Lock()
			skip := broken[i]
			mu.Unlock()
			if skip {
				continue
			}
			at := start.Add(time.Duration(k) * o.spread / time.Duration(n))
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-time.After(time.Until(at)):
				case <-ctx.Done():
					return
				}
				rtt, err := echoOnce(conns[i], o, uint64(round)<<32|uint64(k))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if lost == 0 {
						log.Printf("wsload: first lost echo: %v", err)
					}
					lost++
					broken[i] = true
					return
				}
				rtts = append(rtts, rtt)
			}()
		}
		wg.Wait()
	}
	return rtts, lost
}

// echoOnce sends one masked message tagged with seq and waits for the same
// bytes to come back.
func echoOnce(c *wsConn, o options, seq uint64) (time.Duration, error) {
	msg := bytes.Repeat([]byte{'m'}, o.msgSize)
	binary.BigEndian.PutUint64(msg, seq)
	mask := []byte{0x12, 0x34, 0x56, byte(seq)}
	_ = c.c.SetDeadline(time.Now().Add(o.opTimeout))
	defer func() { _ = c.c.SetDeadline(time.Time{}) }()
	t0 := time.Now()
	if _, err := wsframe.Write(c.c, wsframe.OpBinary, msg, mask, nil); err != nil {
		return 0, err
	}
	for {
		f, _, err := wsframe.Read(c.r, nil)
		if err != nil {
			return 0, fmt.Errorf("reading echo: %w", err)
		}
		if f.Opcode == wsframe.OpPing || f.Opcode == wsframe.OpPong {
			continue
		}
		if !bytes.Equal(f.Payload, msg) {
			return 0, fmt.Errorf("echo differs from the message sent (opcode %d, %d bytes)", f.Opcode, len(f.Payload))
		}
		return time.Since(t0), nil
	}
}

// percentileMs returns the q-quantile (0 < q ≤ 1) of d in milliseconds, by
// the nearest-rank method; 0 for no samples. It sorts d.
func percentileMs(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(float64(len(d))*q+0.999999) - 1
	i = max(0, min(i, len(d)-1))
	return float64(d[i]) / float64(time.Millisecond)
}
