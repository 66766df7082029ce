// orders-handler: acks every JSON message and rejects (dead-letters) the
// malformed ones. SIDECAR_ADDRESS and HANDLER_NAME come from the environment;
// SIGTERM settles what is in hand and exits 0.
package main

import (
	"context"
	"encoding/json"
	"log"

	"github.com/kafka-sidecar/kafka-sidecar/client_examples/go/sidecarclient"
)

func main() {
	err := sidecarclient.Run(context.Background(), sidecarclient.Config{
		Handler: func(ctx context.Context, m *sidecarclient.Message) error {
			var order map[string]any
			if err := json.Unmarshal(m.Value, &order); err != nil {
				return sidecarclient.Reject(err) // malformed or a tombstone: no retry fixes it
			}
			return nil // ACK
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}
