package web

import _ "embed" // openapi.json

// openAPIDocument describes the REST API (OpenAPI 3.1). A test drives every
// route and status it documents against the real handlers, and checks that
// every API route is in it.
//
//go:embed openapi.json
var openAPIDocument []byte
