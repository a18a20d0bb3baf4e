package dav

// BodyETag is the strong entity tag (unquoted) the handler gives a body, for
// writers outside the handler (the web UI's import) that store objects the
// DAV handler later serves.
func BodyETag(body []byte) string { return computeETag(body) }
