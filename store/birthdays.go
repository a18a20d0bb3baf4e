package store

import "context"

// BirthdaysOn reports whether the user has a Birthdays calendar.
func BirthdaysOn(ctx context.Context, s Store, userID int64) (bool, error) {
	cols, err := s.ListCollections(ctx, userID, KindBirthdays)
	return len(cols) > 0, err
}

// SetBirthdays turns the user's Birthdays calendar (issue 17) on or off,
// for `davenport user birthdays` and the web UI. Off removes it for good,
// trash included: its events are derived from the address books, so
// nothing is lost. On makes c (the calendar as a new account gets it, of
// KindBirthdays) again; it fills from the address books on its first use.
// It is idempotent.
func SetBirthdays(ctx context.Context, s Store, userID int64, on bool, c Collection) error {
	cols, err := s.ListCollections(ctx, userID, KindBirthdays)
	if err != nil {
		return err
	}
	switch {
	case on && len(cols) > 0, !on && len(cols) == 0:
		return nil // already so
	case on:
		c.ID, c.OwnerID = 0, userID
		return s.CreateCollection(ctx, &c)
	}
	for _, c := range cols {
		if err := s.DeleteCollection(ctx, userID, c.ID); err != nil {
			return err
		}
	}
	trash, err := s.ListTrashedCollections(ctx, userID)
	if err != nil {
		return err
	}
	for _, tc := range trash {
		if tc.Collection.Kind == KindBirthdays {
			if err := s.DeleteTrashedCollection(ctx, userID, tc.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
