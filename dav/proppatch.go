package dav

import (
	"encoding/xml"
	"net/http"

	"github.com/davenport-dav/davenport/store"
)

// proppatch applies a PROPPATCH (RFC 4918 §9.2) atomically: either every
// instruction succeeds, or none is applied and the failing properties get
// their own status while the rest get 424 Failed Dependency.
func (h *Handler) proppatch(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if res.Type == ResProxy {
		return h.proxyPatch(rq, w, r, res)
	}
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	if body == nil || body.Name != Name("propertyupdate") {
		return &Error{Status: http.StatusBadRequest, Message: "dav: PROPPATCH body is not DAV:propertyupdate"}
	}
	var patch store.CollectionPatch
	okStat := PropStat{Status: http.StatusOK}
	var failed []PropStat
	failedNames := map[xml.Name]bool{}
	// fail records a failed property, sharing one propstat per status and
	// condition.
	fail := func(status int, el *Element, cond string) {
		failedNames[el.Name] = true
		for i := range failed {
			ps := &failed[i]
			if ps.Status == status && (ps.Error == nil) == (cond == "") && (cond == "" || ps.Error.Name.Local == cond) {
				ps.Props = append(ps.Props, NewElement(el.Name))
				return
			}
		}
		ps := PropStat{Status: status, Props: []*Element{NewElement(el.Name)}}
		if cond != "" {
			ps.Error = NewElement(Name(cond))
		}
		failed = append(failed, ps)
	}
	for _, instr := range body.Children {
		remove := instr.Name == Name("remove")
		if !remove && instr.Name != Name("set") {
			continue
		}
		for _, prop := range instr.ChildrenNamed(Name("prop")) {
			for _, el := range prop.Children {
				okStat.Props = append(okStat.Props, NewElement(el.Name))
				if res.Type == ResObject && nests(res.Kind) {
					// A file's properties are dead, but for the
					// protected live ones.
					if p := h.lookup(el); p != nil && p.Set == nil {
						fail(http.StatusForbidden, el, "cannot-modify-protected-property")
						continue
					}
					patch.DeadProps = append(patch.DeadProps, deadProp(el, remove))
					continue
				}
				if res.Type != ResCollection {
					// Only collections carry writable and dead properties.
					fail(http.StatusForbidden, el, "cannot-modify-protected-property")
					continue
				}
				p := h.lookup(el)
				switch {
				case p != nil && p.Set != nil:
					v := el
					if remove {
						v = nil
					}
					if res.Shared != nil {
						// A sharee's patch sets their own view: a name and
						// a colour, nothing of the owner's.
						var one store.CollectionPatch
						if err := p.Set(&one, v); err != nil {
							fail(http.StatusConflict, el, "")
						} else if !viewPatch(&one, &patch) {
							fail(http.StatusForbidden, el, "need-privileges")
						}
						continue
					}
					if err := p.Set(&patch, v); err != nil {
						fail(http.StatusConflict, el, "")
					}
				case res.Shared != nil:
					// Dead and protected properties of a shared collection
					// are the owner's.
					fail(http.StatusForbidden, el, "need-privileges")
				case p != nil:
					// RFC 4918 §9.2.1: DAV:cannot-modify-protected-property.
					fail(http.StatusForbidden, el, "cannot-modify-protected-property")
				default:
					patch.DeadProps = append(patch.DeadProps, deadProp(el, remove))
				}
			}
		}
	}
	resp := &Response{Href: res.Href}
	if len(failed) > 0 {
		dep := PropStat{Status: http.StatusFailedDependency}
		for _, el := range okStat.Props {
			if !failedNames[el.Name] {
				dep.Props = append(dep.Props, el)
			}
		}
		resp.PropStats = append(failed, dep)
	} else {
		var err error
		if res.Type == ResObject {
			err = h.Store.UpdateObjectDeadProps(rq.Context(), res.Collection.ID, res.Object.Name, patch.DeadProps)
		} else if res.Shared != nil {
			err = h.Store.SetShareView(rq.Context(), rq.User.ID, res.Collection.ID, store.ShareView{DisplayName: patch.DisplayName, Color: patch.Color})
		} else {
			// The store queues the WebDAV-Push property-update in
			// the change's transaction.
			err = h.Store.UpdateCollection(rq.Context(), res.Owner.ID, res.Collection.ID, patch)
		}
		if err != nil {
			return err
		}
		resp.PropStats = []PropStat{okStat}
	}
	ms := NewMultiStatus(w)
	ms.Add(resp)
	return ms.Close("")
}

// viewPatch moves the fields of one that a sharee's view holds (the name and
// the colour) into patch, and reports false when one sets anything else.
func viewPatch(one, patch *store.CollectionPatch) bool {
	if one.DisplayName != nil {
		patch.DisplayName = one.DisplayName
	}
	if one.Color != nil {
		patch.Color = one.Color
	}
	return one.Description == nil && one.Order == nil && one.Timezone == nil && len(one.DeadProps) == 0 &&
		(one.DisplayName != nil || one.Color != nil)
}

// deadProp is the store's record of setting (or, with remove, removing)
// the dead property el.
func deadProp(el *Element, remove bool) store.DeadProp {
	dp := store.DeadProp{Namespace: el.Name.Space, Name: el.Name.Local}
	if !remove {
		dp.XML = el.String()
	}
	return dp
}
