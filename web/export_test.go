package web

// Routes lists every route the server answers, as "METHOD /path", so that
// tests outside the package can check they cover them all.
func Routes(s *Server) []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}
