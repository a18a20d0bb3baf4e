// Command pgexec runs one SQL statement on a PostgreSQL URL. The interop
// scripts use it to make and drop a schema of their own without needing
// psql on the machine.
//
//	go run ./scripts/interop/pgexec URL 'CREATE SCHEMA x'
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pgexec URL SQL")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgexec: connect:", err)
		os.Exit(1)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "pgexec:", err)
		os.Exit(1)
	}
}
