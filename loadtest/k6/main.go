// The k6 binary the load tests run: stock k6 plus the small SSE module in ./sse.
// It is what `xk6 build --with <extension>` would generate; built with plain
// `go build` because xk6 and the public SSE extensions are not on the module
// proxy this project may use (see loadtest/README.md).
package main

import (
	k6cmd "go.k6.io/k6/cmd"

	_ "chat.local/loadtest/k6/sse"
)

func main() {
	k6cmd.Execute()
}
