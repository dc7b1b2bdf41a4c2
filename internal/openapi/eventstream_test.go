package openapi

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseEventStream(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		body    string
		want    []map[string]any
		wantErr string
	}{
		{name: "empty", body: "", want: nil},
		{name: "only heartbeats", body: ": heartbeat\n\n:\n\n", want: nil},
		{
			name: "two events", body: "event: status\ndata: {\"a\":1}\n\nevent: progress\ndata:{\"a\":2}\n\n",
			want: []map[string]any{
				{"event": "status", "data": map[string]any{"a": json.Number("1")}},
				{"event": "progress", "data": map[string]any{"a": json.Number("2")}},
			},
		},
		{
			name: "CRLF and CR line ends", body: "event: status\r\ndata: 1\r\n\r\nevent: progress\rdata: 2\r\r",
			want: []map[string]any{
				{"event": "status", "data": json.Number("1")},
				{"event": "progress", "data": json.Number("2")},
			},
		},
		{
			name: "data over several lines", body: "event: status\ndata: {\"a\":\ndata: [1,\ndata: 2]}\n\n",
			want: []map[string]any{{"event": "status", "data": map[string]any{"a": []any{json.Number("1"), json.Number("2")}}}},
		},
		{
			name: "id, retry and the default event name", body: "id: 42\nretry: 1500\ndata: null\n\n",
			want: []map[string]any{{"event": "message", "data": nil, "id": "42", "retry": json.Number("1500")}},
		},
		{name: "comment inside an event", body: "event: status\n: ping\ndata: 1\n\n", want: []map[string]any{{"event": "status", "data": json.Number("1")}}},
		{name: "unknown field", body: "evnt: status\ndata: 1\n\n", wantErr: "unknown field"},
		{name: "no data", body: "event: status\n\n", wantErr: "no data"},
		{name: "data not JSON", body: "event: status\ndata: {oops\n\n", wantErr: "not JSON"},
		{name: "data after JSON", body: "event: status\ndata: {} {}\n\n", wantErr: "data after"},
		{name: "bad retry", body: "retry: soon\ndata: 1\n\n", wantErr: "retry"},
		{name: "truncated", body: "event: status\ndata: 1\n", wantErr: "ends inside an event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseEventStream([]byte(tt.body))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrEventStream)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseEventStream(f *testing.F) {
	f.Add([]byte("event: status\ndata: {\"a\":1}\n\n: heartbeat\n\n"))
	f.Add([]byte("id: 1\r\nretry: 10\r\ndata: [1,\r\ndata: 2]\r\n\r\n"))
	f.Add([]byte("data: 1\r"))
	f.Add([]byte("\r\r\n\n:"))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := parseEventStream(body)
		if err != nil {
			if !errors.Is(err, ErrEventStream) {
				t.Fatalf("error does not wrap ErrEventStream: %v", err)
			}
			return
		}
		for _, e := range events {
			if _, ok := e["event"].(string); !ok {
				t.Fatalf("event without a name: %v", e)
			}
			if _, ok := e["data"]; !ok {
				t.Fatalf("event without data: %v", e)
			}
		}
	})
}
