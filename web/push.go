package web

import (
	"net/http"
	"strconv"

	"github.com/davenport-dav/davenport/store"
)

// The push devices page lists the user's WebDAV-Push registrations (one
// per device and collection) and revokes them. It is registered here, not
// in the shared lists, so pages added elsewhere do not collide with it.
func init() {
	pageNames = append(pageNames, "push")
	messages["push-revoked"] = "Push stopped for that device and collection. It is registered again at its next sync if the app still asks for push."
}

// pushRow is one registration as the page shows it.
type pushRow struct {
	store.PushRegistration
	// Collection names the collection ("Personal (calendar)", with the
	// owner when shared); Device the client's User-Agent, or "Unknown
	// device".
	Collection, Device string
}

func (h *Handler) pushPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct := sessionFrom(ctx).acct
	regs, err := h.cfg.Store.ListPushRegistrations(ctx, acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	names, err := h.collectionNames(r, acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	rows := make([]pushRow, len(regs))
	for i, reg := range regs {
		rows[i] = pushRow{PushRegistration: reg, Collection: names[reg.CollectionID], Device: reg.UserAgent}
		if rows[i].Collection == "" {
			rows[i].Collection = "Collection " + strconv.FormatInt(reg.CollectionID, 10)
		}
		if rows[i].Device == "" {
			rows[i].Device = "Unknown device"
		}
	}
	h.render(w, r, http.StatusOK, "push", "Push devices", "push", rows)
}

// collectionNames names the calendars and address books the user owns or
// has shared with them, by id.
func (h *Handler) collectionNames(r *http.Request, userID int64) (map[int64]string, error) {
	ctx := r.Context()
	names := map[int64]string{}
	for _, k := range []struct {
		kind  store.Kind
		label string
	}{{store.KindCalendar, "calendar"}, {store.KindAddressBook, "address book"}, {store.KindInbox, "scheduling inbox"}} {
		own, err := h.cfg.Store.ListCollections(ctx, userID, k.kind)
		if err != nil {
			return nil, err
		}
		for _, c := range own {
			names[c.ID] = displayName(&c) + " (" + k.label + ")"
		}
		if k.kind == store.KindInbox {
			continue
		}
		shared, err := h.cfg.Store.ListSharedCollections(ctx, userID, k.kind)
		if err != nil {
			return nil, err
		}
		for _, sc := range shared {
			name := sc.DisplayName
			if name == "" {
				name = displayName(&sc.Collection)
			}
			names[sc.Collection.ID] = name + " (" + k.label + " shared by " + sc.Owner + ")"
		}
	}
	return names, nil
}

func (h *Handler) revokePush(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	// Scoped to the signed-in user: another user's registration is not
	// found.
	if err := h.cfg.Store.DeletePushRegistration(r.Context(), sessionFrom(r.Context()).acct.ID, id); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, "/web/push", "push-revoked")
}
