package route53

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/model"
	"trustgate/internal/store"
)

// Change actions.
const (
	actionCreate = "CREATE"
	actionDelete = "DELETE"
	actionUpsert = "UPSERT"
)

// rrTypes is Route 53's RRType enum, in the model's order, for messages.
const rrTypes = "[SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]"

// pending is one decoded change of a batch.
type pending struct {
	action string
	rs     model.RecordSet
}

// batchErrors collects InvalidChangeBatch messages; Route 53 reports them
// all at once, as "[first, second]".
type batchErrors []string

func (b *batchErrors) add(format string, args ...any) { *b = append(*b, fmt.Sprintf(format, args...)) }

func (b batchErrors) err() error {
	if len(b) == 0 {
		return nil
	}
	return awserr.New(awserr.R53InvalidChangeBatch, "["+strings.Join(b, ", ")+"]")
}

func (s *Service) changeRRSets(w http.ResponseWriter, r *http.Request, rawID string) error {
	id, err := zoneID(rawID)
	if err != nil {
		return err
	}
	var req changeRRSetsRequest
	if err := decodeXML(r, &req); err != nil {
		return err
	}
	if req.ChangeBatch == nil {
		return validation("Value null at 'changeBatch' failed to satisfy constraint: Member must not be null")
	}
	if req.ChangeBatch.Changes == nil {
		return validation("Value null at 'changeBatch.changes' failed to satisfy constraint: Member must not be null")
	}
	changes := req.ChangeBatch.Changes.Change
	if len(changes) == 0 {
		return validation("Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(changes) > model.MaxChangesPerBatch {
		return awserr.Errorf(awserr.R53InvalidChangeBatch, "[Number of changes limit of %d exceeded.]", model.MaxChangesPerBatch)
	}
	if len(req.ChangeBatch.Comment) > 256 {
		return validation("Value '%s' at 'changeBatch.comment' failed to satisfy constraint: Member must have length less than or equal to 256", req.ChangeBatch.Comment)
	}
	batch, err := decodeChanges(changes)
	if err != nil {
		return err
	}
	ch := s.newChange(id, req.ChangeBatch.Comment)
	rev, err := s.cfg.Store.Update(r.Context(), func(tx store.Tx) error {
		return s.applyBatch(tx, id, batch, ch)
	})
	if err != nil {
		return err
	}
	s.log.Info("record sets changed", "zone", id, "changes", len(batch), "change", ch.ID)
	s.writeXML(w, r, http.StatusOK, changeRRSetsResponse{Xmlns: xmlns, ChangeInfo: s.landed(ch, rev)})
	return nil
}

// decodeChanges checks each change's shape (InvalidInput, as Route 53's
// schema validation answers) and its names and values on their own
// (InvalidChangeBatch).
func decodeChanges(changes []change) ([]pending, error) {
	var (
		out     []pending
		msgs    batchErrors
		records int
		chars   int
	)
	for i, c := range changes {
		at := fmt.Sprintf("changeBatch.changes.%d.member", i+1)
		if c.Action == nil {
			return nil, validation("Value null at '%s.action' failed to satisfy constraint: Member must not be null", at)
		}
		switch *c.Action {
		case actionCreate, actionDelete, actionUpsert:
		default:
			return nil, validation("Value '%s' at '%s.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, DELETE, UPSERT]", *c.Action, at)
		}
		x := c.ResourceRecordSet
		if x == nil {
			return nil, validation("Value null at '%s.resourceRecordSet' failed to satisfy constraint: Member must not be null", at)
		}
		at += ".resourceRecordSet"
		if x.Name == nil {
			return nil, validation("Value null at '%s.name' failed to satisfy constraint: Member must not be null", at)
		}
		if len(*x.Name) > 1024 {
			return nil, validation("Value '%s' at '%s.name' failed to satisfy constraint: Member must have length less than or equal to 1024", *x.Name, at)
		}
		if x.Type == nil {
			return nil, validation("Value null at '%s.type' failed to satisfy constraint: Member must not be null", at)
		}
		if _, ok := model.RecordType(*x.Type); !ok {
			return nil, validation("Value '%s' at '%s.type' failed to satisfy constraint: Member must satisfy enum value set: %s", *x.Type, at, rrTypes)
		}
		if x.SetIdentifier != nil || x.Weight != nil || x.Region != nil || x.GeoLocation != nil || x.Failover != nil ||
			x.MultiValueAnswer != nil || x.CidrRoutingConfig != nil || x.GeoProximityLocation != nil || x.TrafficPolicyInstanceID != nil {
			return nil, awserr.Errorf(awserr.R53InvalidInput,
				"trustgate supports simple routing only: SetIdentifier, Weight, Region, GeoLocation, Failover, MultiValueAnswer, CidrRoutingConfig, GeoProximityLocation and TrafficPolicyInstanceId are not supported (change %d)", i+1)
		}
		if x.HealthCheckID != nil {
			return nil, &awserr.Error{Code: "NoSuchHealthCheck", Status: http.StatusNotFound,
				Message: fmt.Sprintf("No health check exists with the specified ID %s", *x.HealthCheckID)}
		}
		hasRecords := x.TTL != nil && x.ResourceRecords != nil
		if (x.AliasTarget != nil) == hasRecords || x.AliasTarget != nil && (x.TTL != nil || x.ResourceRecords != nil) {
			found := "none"
			if x.AliasTarget != nil {
				found = "more than one"
			}
			return nil, awserr.Errorf(awserr.R53InvalidInput,
				"Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found %s in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=null]",
				found, *c.Action, *x.Name, *x.Type)
		}
		rs := model.RecordSet{Type: *x.Type}
		if x.AliasTarget != nil {
			a := x.AliasTarget
			switch {
			case a.HostedZoneID == nil:
				return nil, validation("Value null at '%s.aliasTarget.hostedZoneId' failed to satisfy constraint: Member must not be null", at)
			case a.DNSName == nil:
				return nil, validation("Value null at '%s.aliasTarget.dNSName' failed to satisfy constraint: Member must not be null", at)
			case a.EvaluateTargetHealth == nil:
				return nil, validation("Value null at '%s.aliasTarget.evaluateTargetHealth' failed to satisfy constraint: Member must not be null", at)
			case len(*a.HostedZoneID) > 32:
				return nil, validation("Value '%s' at '%s.aliasTarget.hostedZoneId' failed to satisfy constraint: Member must have length less than or equal to 32", *a.HostedZoneID, at)
			case len(*a.DNSName) > 1024:
				return nil, validation("Value '%s' at '%s.aliasTarget.dNSName' failed to satisfy constraint: Member must have length less than or equal to 1024", *a.DNSName, at)
			}
			eth, err := strconv.ParseBool(strings.TrimSpace(*a.EvaluateTargetHealth))
			if err != nil {
				return nil, awserr.Errorf(awserr.R53InvalidInput, "Invalid XML ; EvaluateTargetHealth %q is not a boolean", *a.EvaluateTargetHealth)
			}
			target, err := model.CanonicalName(*a.DNSName, false)
			if err != nil {
				msgs.add("%s", err.Error())
			}
			rs.Alias = &model.AliasTarget{
				HostedZoneID:         strings.TrimPrefix(*a.HostedZoneID, "/hostedzone/"),
				DNSName:              target,
				EvaluateTargetHealth: eth,
			}
		} else {
			ttl, err := strconv.ParseInt(strings.TrimSpace(*x.TTL), 10, 64)
			if err != nil {
				return nil, awserr.Errorf(awserr.R53InvalidInput, "Invalid XML ; TTL %q is not an integer", *x.TTL)
			}
			if ttl < 0 {
				return nil, validation("Value '%d' at '%s.tTL' failed to satisfy constraint: Member must have value greater than or equal to 0", ttl, at)
			}
			if ttl > model.MaxTTL {
				return nil, validation("Value '%d' at '%s.tTL' failed to satisfy constraint: Member must have value less than or equal to %d", ttl, at, model.MaxTTL)
			}
			rs.TTL = ttl
			rrs := x.ResourceRecords.ResourceRecord
			if len(rrs) == 0 {
				return nil, validation("Value '[]' at '%s.resourceRecords' failed to satisfy constraint: Member must have length greater than or equal to 1", at)
			}
			for j, rr := range rrs {
				if rr.Value == nil {
					return nil, validation("Value null at '%s.resourceRecords.%d.member.value' failed to satisfy constraint: Member must not be null", at, j+1)
				}
				if len(*rr.Value) > model.MaxValueLen {
					return nil, validation("Value at '%s.resourceRecords.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to %d", at, j+1, model.MaxValueLen)
				}
				chars += len(*rr.Value)
				rs.Values = append(rs.Values, strings.TrimSpace(*rr.Value))
			}
			records += len(rrs)
		}
		name, err := model.CanonicalName(*x.Name, true)
		if err != nil {
			msgs.add("%s", err.Error())
			continue
		}
		rs.Name = name
		if err := rs.Validate(); err != nil {
			msgs.add("%s", err.Error())
			continue
		}
		out = append(out, pending{action: *c.Action, rs: rs})
	}
	if records > model.MaxRecordsPerBatch {
		return nil, awserr.Errorf(awserr.R53InvalidChangeBatch, "[Number of records limit of %d exceeded.]", model.MaxRecordsPerBatch)
	}
	if chars > model.MaxValueCharsPerBatch {
		return nil, awserr.Errorf(awserr.R53InvalidChangeBatch, "[Number of characters in Value elements limit of %d exceeded.]", model.MaxValueCharsPerBatch)
	}
	return out, msgs.err()
}

// zoneState is a zone's record sets while a batch is applied to them.
type zoneState struct {
	zone   model.HostedZone
	sets   map[string]*model.RecordSet    // by name + "/" + type
	byName map[string]map[string]struct{} // name -> types present
}

func setKey(name, typ string) string { return name + "/" + typ }

func (z *zoneState) get(name, typ string) *model.RecordSet { return z.sets[setKey(name, typ)] }

func (z *zoneState) put(rs model.RecordSet) {
	z.sets[setKey(rs.Name, rs.Type)] = &rs
	if z.byName[rs.Name] == nil {
		z.byName[rs.Name] = map[string]struct{}{}
	}
	z.byName[rs.Name][rs.Type] = struct{}{}
}

func (z *zoneState) del(name, typ string) {
	delete(z.sets, setKey(name, typ))
	delete(z.byName[name], typ)
	if len(z.byName[name]) == 0 {
		delete(z.byName, name)
	}
}

// applyBatch applies a decoded batch inside tx: every change in order
// against the state the previous ones left, then the alias targets against
// the final state. Any failure writes nothing.
func (s *Service) applyBatch(tx store.Tx, zoneID string, batch []pending, ch model.Change) error {
	zone, err := getZone(tx, zoneID)
	if err != nil {
		return err
	}
	sets, err := store.ListJSON[model.RecordSet](tx, model.RecordSetsPrefix(zoneID))
	if err != nil {
		return err
	}
	st := &zoneState{zone: zone, sets: map[string]*model.RecordSet{}, byName: map[string]map[string]struct{}{}}
	before := map[string]bool{}
	for _, rs := range sets {
		st.put(rs)
		before[setKey(rs.Name, rs.Type)] = true
	}
	var msgs batchErrors
	touched := map[string]bool{}
	var order []string // touched keys in batch order, for stable messages
	touch := func(k string) {
		if !touched[k] {
			touched[k] = true
			order = append(order, k)
		}
	}
	for _, p := range batch {
		rs := p.rs
		rs.ZoneID = zoneID
		if !model.InZone(rs.Name, zone.Name) {
			msgs.add("RRSet with DNS name %s is not permitted in zone %s", rs.Name, zone.Name)
			continue
		}
		cur := st.get(rs.Name, rs.Type)
		switch p.action {
		case actionDelete:
			switch {
			case cur == nil:
				msgs.add("Tried to delete resource record set [name='%s', type='%s'] but it was not found", rs.Name, rs.Type)
			case !cur.SameValues(&rs):
				msgs.add("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the current values", rs.Name, rs.Type)
			case rs.Name == zone.Name && rs.Type == "SOA":
				msgs.add("A HostedZone must contain exactly one SOA record.")
			case rs.Name == zone.Name && rs.Type == "NS":
				msgs.add("A HostedZone must contain at least one NS record for the zone itself.")
			default:
				st.del(rs.Name, rs.Type)
				touch(setKey(rs.Name, rs.Type))
			}
			continue
		case actionCreate:
			if cur != nil {
				msgs.add("Tried to create resource record set [name='%s', type='%s'] but it already exists", rs.Name, rs.Type)
				continue
			}
		}
		if m := conflicts(st, &rs); m != "" {
			msgs.add("%s", m)
			continue
		}
		st.put(rs)
		touch(setKey(rs.Name, rs.Type))
	}
	if len(msgs) > 0 {
		return msgs.err()
	}
	if len(st.sets) > model.MaxRecordSetsPerZone {
		return awserr.Errorf(awserr.R53InvalidChangeBatch, "[Number of records limit of %d exceeded.]", model.MaxRecordSetsPerZone)
	}
	// Alias targets are checked against the final state, so one batch may
	// create a record and an alias to it in either order.
	var domains []model.DomainName
	domainsRead := false
	for _, k := range order {
		rs := st.sets[k]
		if rs == nil || rs.Alias == nil {
			continue
		}
		if !domainsRead {
			if domains, err = store.ListJSON[model.DomainName](tx, model.PrefixDomains); err != nil {
				return err
			}
			domainsRead = true
		}
		s.checkAlias(st, rs, domains, &msgs)
	}
	if len(msgs) > 0 {
		return msgs.err()
	}
	for _, k := range order {
		rs := st.sets[k]
		name, typ, _ := strings.Cut(k, "/")
		switch {
		case rs != nil:
			if err := store.PutJSON(tx, model.RecordSetKey(zoneID, rs.Name, rs.Type), rs); err != nil {
				return err
			}
		case before[k]:
			if err := tx.Delete(model.RecordSetKey(zoneID, name, typ)); err != nil {
				return err
			}
		}
	}
	return store.PutJSON(tx, model.ChangeKey(ch.ID), ch)
}

// conflicts returns Route 53's message when rs cannot sit beside the record
// sets already at its name, or "".
func conflicts(st *zoneState, rs *model.RecordSet) string {
	zone := st.zone.Name
	apex := rs.Name == zone
	switch {
	case rs.Type == "CNAME" && apex:
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", rs.Name, zone)
	case rs.Type == "SOA" && !apex:
		return fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted because only the zone apex %s can have an SOA record", rs.Name, zone)
	case rs.Type == "CNAME":
		for t := range st.byName[rs.Name] {
			if t != "CNAME" {
				return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", rs.Name, zone)
			}
		}
	default:
		if _, ok := st.byName[rs.Name]["CNAME"]; ok {
			return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", rs.Type, rs.Name, zone)
		}
	}
	return ""
}

// checkAlias adds Route 53's messages when an alias does not target a
// gateway regional domain name (A/AAAA with the region's regional hosted
// zone id) or a record set of the same type in this zone.
func (s *Service) checkAlias(st *zoneState, rs *model.RecordSet, domains []model.DomainName, msgs *batchErrors) {
	a := rs.Alias
	notWithin := func() {
		msgs.add("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", a.DNSName, rs.Type, a.HostedZoneID)
	}
	notFound := func() {
		msgs.add("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found", a.DNSName, rs.Type, a.HostedZoneID)
	}
	switch a.HostedZoneID {
	case st.zone.ID:
		switch {
		case !model.InZone(a.DNSName, st.zone.Name):
			notWithin()
			notFound()
		case a.DNSName == rs.Name:
			msgs.add("Tried to create an alias that targets %s, type %s in zone %s, but the alias target is the record itself", a.DNSName, rs.Type, a.HostedZoneID)
		case st.get(a.DNSName, rs.Type) == nil:
			notFound()
		}
	case model.RegionalHostedZoneID(s.cfg.Region):
		suffix := ".execute-api." + strings.ToLower(s.cfg.Region) + "." + strings.TrimSuffix(strings.ToLower(s.cfg.PublicDomain), ".") + "."
		label, ok := strings.CutSuffix(a.DNSName, suffix)
		if !ok || !strings.HasPrefix(label, "d-") || strings.Contains(label, ".") {
			notWithin()
			notFound()
			return
		}
		if rs.Type != "A" && rs.Type != "AAAA" {
			notFound()
			return
		}
		domainID := strings.TrimPrefix(label, "d-")
		for _, d := range domains {
			if strings.EqualFold(d.ID, domainID) {
				return
			}
		}
		notFound()
	default:
		notWithin()
		notFound()
	}
}

func (s *Service) listRRSets(w http.ResponseWriter, r *http.Request, rawID string) error {
	id, err := zoneID(rawID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	n, err := maxItems(r, 300, 300)
	if err != nil {
		return err
	}
	startName, startType := q.Get("name"), q.Get("type")
	if startType != "" && startName == "" {
		return awserr.New(awserr.R53InvalidInput, "The value of the type parameter is set, but the value of the name parameter is not.")
	}
	if startType != "" {
		if _, ok := model.RecordType(startType); !ok {
			return validation("Value '%s' at 'startRecordType' failed to satisfy constraint: Member must satisfy enum value set: %s", startType, rrTypes)
		}
	}
	startKey := ""
	if startName != "" {
		name, err := model.CanonicalName(startName, true)
		if err != nil {
			return awserr.New(awserr.R53InvalidInput, err.Error())
		}
		startKey = reversedName(name)
	}
	var sets []model.RecordSet
	_, err = s.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		if _, err := getZone(tx, id); err != nil {
			return err
		}
		sets, err = store.ListJSON[model.RecordSet](tx, model.RecordSetsPrefix(id))
		return err
	})
	if err != nil {
		return err
	}
	sortRecordSets(sets)
	i := 0
	for i < len(sets) {
		k := reversedName(sets[i].Name)
		if k > startKey || k == startKey && sets[i].Type >= startType {
			break
		}
		i++
	}
	sets = sets[i:]
	resp := listRRSetsResponse{Xmlns: xmlns, MaxItems: strconv.Itoa(n)}
	if len(sets) > n {
		resp.IsTruncated = true
		resp.NextRecordName = sets[n].Name
		resp.NextRecordType = sets[n].Type
		sets = sets[:n]
	}
	for _, rs := range sets {
		resp.ResourceRecordSets.Items = append(resp.ResourceRecordSets.Items, rrsetToXML(rs))
	}
	s.writeXML(w, r, http.StatusOK, resp)
	return nil
}

// sortRecordSets puts record sets in Route 53's listing order: by name with
// labels reversed, then by type.
func sortRecordSets(sets []model.RecordSet) {
	slices.SortFunc(sets, func(a, b model.RecordSet) int {
		return cmp.Or(cmp.Compare(reversedName(a.Name), reversedName(b.Name)), cmp.Compare(a.Type, b.Type))
	})
}

func rrsetToXML(rs model.RecordSet) rrsetXML {
	name, typ := rs.Name, rs.Type
	x := rrsetXML{Name: &name, Type: &typ}
	if rs.Alias != nil {
		hz, dn, eth := rs.Alias.HostedZoneID, rs.Alias.DNSName, strconv.FormatBool(rs.Alias.EvaluateTargetHealth)
		x.AliasTarget = &aliasTargetXML{HostedZoneID: &hz, DNSName: &dn, EvaluateTargetHealth: &eth}
		return x
	}
	ttl := strconv.FormatInt(rs.TTL, 10)
	x.TTL = &ttl
	x.ResourceRecords = &resourceRecords{}
	for _, v := range rs.Values {
		x.ResourceRecords.ResourceRecord = append(x.ResourceRecords.ResourceRecord, resourceRecord{Value: &v})
	}
	return x
}
