package server

import "time"

// SetCertCheckInterval lets a test see a change of the files at once.
func (c *CertFiles) SetCertCheckInterval(d time.Duration) { c.interval = d }
