package route53

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/model"
	"trustgate/internal/store"
)

// Change statuses.
const (
	statusPending = "PENDING"
	statusInSync  = "INSYNC"
)

// changeMemory is how many recent changes keep their exact revision in
// memory. Older ones (and changes made before a restart or on another node)
// fall back to the revision GetChange reads at, which is never earlier than
// the change's own: they may report PENDING a little longer, never INSYNC
// too early.
const changeMemory = 10000

// changeRevisions remembers the store revision each recent change landed at.
type changeRevisions struct {
	mu    sync.Mutex
	max   int
	revs  map[string]int64
	order []string
}

func newChangeRevisions(max int) *changeRevisions {
	return &changeRevisions{max: max, revs: make(map[string]int64)}
}

func (c *changeRevisions) put(id string, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.order) >= c.max {
		delete(c.revs, c.order[0])
		c.order = c.order[1:]
	}
	c.revs[id] = rev
	c.order = append(c.order, id)
}

func (c *changeRevisions) get(id string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rev, ok := c.revs[id]
	return rev, ok
}

// status is PENDING until the DNS server serves a revision at or after rev.
func (s *Service) status(rev int64) string {
	if s.cfg.Served == nil {
		return statusInSync
	}
	served := s.cfg.Served()
	if served < 0 || served >= rev {
		return statusInSync
	}
	return statusPending
}

// newChange makes the change record a write stores in its transaction.
func (s *Service) newChange(zoneID, comment string) model.Change {
	return model.Change{
		ID:          newID("C", 20),
		ZoneID:      zoneID,
		Comment:     comment,
		SubmittedAt: s.now().UTC().Truncate(time.Millisecond),
	}
}

// landed records the revision a change's transaction produced and returns
// its ChangeInfo.
func (s *Service) landed(ch model.Change, rev int64) changeInfoXML {
	s.changes.put(ch.ID, rev)
	return changeInfoXML{
		ID:          changeRef(ch.ID),
		Status:      s.status(rev),
		SubmittedAt: timestamp(ch.SubmittedAt),
		Comment:     ch.Comment,
	}
}

func (s *Service) getChange(w http.ResponseWriter, r *http.Request, id string) error {
	id = strings.TrimPrefix(id, "/change/")
	if len(id) > 32 {
		return validation("Value '%s' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32", id)
	}
	noSuch := awserr.Errorf(awserr.R53NoSuchChange, "A change with the specified change ID does not exist: %s", id)
	if !validID(id) {
		return noSuch
	}
	var ch model.Change
	readRev, err := s.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		var err error
		ch, err = store.GetJSON[model.Change](tx, model.ChangeKey(id))
		return err
	})
	if isNotFound(err) {
		return noSuch
	}
	if err != nil {
		return err
	}
	rev, ok := s.changes.get(id)
	if !ok {
		rev = readRev
	}
	s.writeXML(w, r, http.StatusOK, getChangeResponse{Xmlns: xmlns, ChangeInfo: changeInfoXML{
		ID:          changeRef(ch.ID),
		Status:      s.status(rev),
		SubmittedAt: timestamp(ch.SubmittedAt),
		Comment:     ch.Comment,
	}})
	return nil
}

// getZone reads a hosted zone inside tx: NoSuchHostedZone when absent.
func getZone(tx store.Tx, id string) (model.HostedZone, error) {
	z, err := store.GetJSON[model.HostedZone](tx, model.ZoneKey(id))
	if isNotFound(err) {
		return z, noSuchZone(id)
	}
	return z, err
}

func noSuchZone(id string) error {
	return awserr.Errorf(awserr.R53NoSuchHostedZone, "No hosted zone found with ID: %s", id)
}

// zoneID checks a hosted zone id from the path.
func zoneID(id string) (string, error) {
	id = strings.TrimPrefix(id, "/hostedzone/")
	if len(id) > 32 {
		return "", validation("Value '%s' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32", id)
	}
	if !validID(id) {
		return "", noSuchZone(id)
	}
	return id, nil
}
