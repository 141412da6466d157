package web

// Routes lists every route the server answers, pages and API, as
// "METHOD /path", so that tests outside the package can check they cover
// them all.
func Routes(s *Server) []string {
	var out []string
	for _, r := range append(s.pages.Routes(), s.api.Routes()...) {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// MaxAPITokenBody is the largest body the API's create and update take.
var MaxAPITokenBody = int(maxAPITokenBody)
