// Package sse registers `k6/x/sse`: a Server-Sent Events client for k6 scripts.
//
// A script opens a stream and pulls events with next(timeoutMs), which blocks
// the VU for at most that long; events that arrive while the VU does something
// else (a POST) wait in a bounded queue, so none is lost between calls. A
// blocking pull keeps the module free of event-loop callbacks, which is all a
// load test's receive loop needs.
package sse

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.k6.io/k6/js/modules"
)

// queueLimit bounds the events held for one stream; a script that falls this far
// behind sees the stream end with an error instead of growing k6's memory.
const queueLimit = 100_000

func init() {
	modules.Register("k6/x/sse", new(rootModule))
}

type rootModule struct{}

func (*rootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	return &instance{vu: vu}
}

type instance struct {
	vu modules.VU
}

func (mi *instance) Exports() modules.Exports {
	return modules.Exports{Named: map[string]any{"open": mi.open}}
}

// Stream is one open SSE response.
type Stream struct {
	events chan map[string]any
	mu     sync.Mutex
	err    error
	cancel func()
	done   chan struct{}
}

// open starts a GET and returns once the response headers arrived with 200.
func (mi *instance) open(url string, headers map[string]string) (*Stream, error) {
	request, err := http.NewRequestWithContext(mi.vu.Context(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("Accept", "text/event-stream")
	for name, value := range headers {
		request.Header.Set(name, value)
	}
	// The default client has no overall timeout: a stream lives as long as the script wants.
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		_ = response.Body.Close()
		return nil, fmt.Errorf("sse: %s answered %d", url, response.StatusCode)
	}
	stream := &Stream{
		events: make(chan map[string]any, queueLimit),
		cancel: func() { _ = response.Body.Close() },
		done:   make(chan struct{}),
	}
	go stream.read(bufio.NewReaderSize(response.Body, 64*1024))
	return stream, nil
}

// read parses `id:`, `event:` and `data:` lines into events until the body ends.
func (s *Stream) read(body *bufio.Reader) {
	defer close(s.done)
	defer close(s.events)
	id, event, data := "", "", ""
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			s.fail(err)
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data != "" {
				if event == "" {
					event = "message"
				}
				select {
				case s.events <- map[string]any{"id": id, "event": event, "data": data}:
				default:
					s.fail(fmt.Errorf("sse: more than %d events waiting; the script fell behind", queueLimit))
					s.cancel()
					return
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"):
			// A heartbeat comment.
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimPrefix(strings.TrimPrefix(line, "id:"), " ")
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimPrefix(strings.TrimPrefix(line, "event:"), " ")
		case strings.HasPrefix(line, "data:"):
			if data != "" {
				data += "\n"
			}
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
}

func (s *Stream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Next returns the next event ({id, event, data}) or null when none came within
// timeoutMs; it throws once the stream has ended.
func (s *Stream) Next(timeoutMs int64) (map[string]any, error) {
	timer := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
	defer timer.Stop()
	select {
	case event, ok := <-s.events:
		if !ok {
			return nil, s.Error()
		}
		return event, nil
	case <-timer.C:
		return nil, nil
	}
}

// Error says why the stream ended.
func (s *Stream) Error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return fmt.Errorf("sse: stream ended")
	}
	return fmt.Errorf("sse: stream ended: %w", s.err)
}

// Close ends the stream and waits for its reader.
func (s *Stream) Close() {
	s.cancel()
	<-s.done
}
