// Package files is the plain WebDAV folder kind of Davenport's dav engine
// (RFC 4918): every user has a files home, /dav/files/{user}/, where
// ordinary collections nest to any depth and files of any content type are
// kept byte for byte, for backups, for apps that sync plain files, and for
// generic WebDAV clients.
//
// The kind only describes: a folder is a plain DAV:collection, any body is
// a valid file, and MKCOL makes folders. The engine (dav's Nester support,
// tree.go) resolves paths of any depth, lists folders, copies, moves and
// deletes trees, and keeps dead properties on files as on folders.
//
// Imports: dav and store. Nothing imports files but server and tests.
package files
