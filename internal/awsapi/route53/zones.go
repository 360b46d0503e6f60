package route53

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/model"
	"trustgate/internal/store"
)

// Default apex records of a new zone, Route 53's but for a shorter negative
// caching time (SOA minimum) that suits a local gateway.
const (
	soaTTL = 900
	nsTTL  = 172800
)

func (s *Service) soaValue() string {
	pd := strings.TrimSuffix(strings.ToLower(s.cfg.PublicDomain), ".")
	if pd == "" {
		pd = "localhost"
	}
	return s.ns[0] + " hostmaster." + pd + ". 1 7200 900 1209600 300"
}

func (s *Service) createHostedZone(w http.ResponseWriter, r *http.Request) error {
	var req createHostedZoneRequest
	if err := decodeXML(r, &req); err != nil {
		return err
	}
	switch {
	case req.Name == nil:
		return validation("Value null at 'name' failed to satisfy constraint: Member must not be null")
	case req.CallerReference == nil:
		return validation("Value null at 'callerReference' failed to satisfy constraint: Member must not be null")
	case len(*req.Name) > 1024:
		return validation("Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to 1024", *req.Name)
	case *req.CallerReference == "" || len(*req.CallerReference) > 128:
		return validation("Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 128", *req.CallerReference)
	case req.VPC != nil || req.HostedZoneConfig != nil && req.HostedZoneConfig.PrivateZone != nil && *req.HostedZoneConfig.PrivateZone:
		return awserr.New(awserr.R53InvalidInput, "trustgate serves public hosted zones only: VPC and PrivateZone are not supported")
	case req.DelegationSetID != nil:
		return &awserr.Error{Code: "NoSuchDelegationSet", Message: "A reusable delegation set with the specified ID does not exist.", Status: 400}
	}
	comment := ""
	if req.HostedZoneConfig != nil {
		comment = req.HostedZoneConfig.Comment
	}
	if len(comment) > 256 {
		return validation("Value '%s' at 'hostedZoneConfig.comment' failed to satisfy constraint: Member must have length less than or equal to 256", comment)
	}
	name, err := model.ZoneName(*req.Name)
	if err != nil {
		return awserr.New(awserr.R53InvalidDomainName, err.Error())
	}
	ref := *req.CallerReference
	now := s.now().UTC().Truncate(time.Millisecond)
	zone := model.HostedZone{
		Name: name, CallerReference: ref, Comment: comment,
		NameServers: slices.Clone(s.ns), CreatedDate: now,
	}
	ch := s.newChange("", "")
	rev, err := s.cfg.Store.Update(r.Context(), func(tx store.Tx) error {
		zones, err := store.ListJSON[model.HostedZone](tx, model.PrefixZones)
		if err != nil {
			return err
		}
		for _, z := range zones {
			if z.CallerReference == ref {
				return awserr.New(awserr.R53HostedZoneAlreadyExists,
					"A hosted zone has already been created with the specified caller reference.")
			}
			if z.Name == name {
				// Every trustgate zone is served by the same name servers,
				// and Route 53 refuses two zones with the same name on
				// common name servers.
				return awserr.Errorf(awserr.R53ConflictingDomainExists,
					"Cannot create hosted zone with DNS name %s as it conflicts with existing hosted zone %s sharing the same name servers", name, z.ID)
			}
		}
		for {
			zone.ID = newID("Z", 20)
			if _, err := tx.Get(model.ZoneKey(zone.ID)); isNotFound(err) {
				break
			} else if err != nil {
				return err
			}
		}
		ch.ZoneID = zone.ID
		if err := store.PutJSON(tx, model.ZoneKey(zone.ID), zone); err != nil {
			return err
		}
		soa := model.RecordSet{ZoneID: zone.ID, Name: name, Type: "SOA", TTL: soaTTL, Values: []string{s.soaValue()}}
		ns := model.RecordSet{ZoneID: zone.ID, Name: name, Type: "NS", TTL: nsTTL, Values: slices.Clone(s.ns)}
		for _, rs := range []model.RecordSet{soa, ns} {
			if err := store.PutJSON(tx, model.RecordSetKey(zone.ID, rs.Name, rs.Type), rs); err != nil {
				return err
			}
		}
		return store.PutJSON(tx, model.ChangeKey(ch.ID), ch)
	})
	if err != nil {
		return err
	}
	s.log.Info("hosted zone created", "zone", zone.ID, "name", name)
	loc := "http://" + r.Host + apiPrefix + "/hostedzone/" + zone.ID
	if r.TLS != nil {
		loc = "https://" + r.Host + apiPrefix + "/hostedzone/" + zone.ID
	}
	w.Header().Set("Location", loc)
	s.writeXML(w, r, http.StatusCreated, createHostedZoneResponse{
		Xmlns:         xmlns,
		HostedZone:    zoneXML(zone, 2),
		ChangeInfo:    s.landed(ch, rev),
		DelegationSet: delegationSetXML{NameServers: zone.NameServers},
	})
	return nil
}

func zoneXML(z model.HostedZone, count int64) hostedZoneXML {
	private := false
	return hostedZoneXML{
		ID:                     hostedZoneRef(z.ID),
		Name:                   z.Name,
		CallerReference:        z.CallerReference,
		Config:                 &hostedZoneConfig{Comment: z.Comment, PrivateZone: &private},
		ResourceRecordSetCount: count,
	}
}

func (s *Service) getHostedZone(w http.ResponseWriter, r *http.Request, rawID string) error {
	id, err := zoneID(rawID)
	if err != nil {
		return err
	}
	var (
		zone  model.HostedZone
		count int
	)
	_, err = s.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if zone, err = getZone(tx, id); err != nil {
			return err
		}
		kvs, err := tx.List(model.RecordSetsPrefix(id))
		count = len(kvs)
		return err
	})
	if err != nil {
		return err
	}
	s.writeXML(w, r, http.StatusOK, getHostedZoneResponse{
		Xmlns:         xmlns,
		HostedZone:    zoneXML(zone, int64(count)),
		DelegationSet: delegationSetXML{NameServers: zone.NameServers},
	})
	return nil
}

// zonesWithCounts reads every zone and its record set count.
func (s *Service) zonesWithCounts(r *http.Request) ([]model.HostedZone, map[string]int64, error) {
	var zones []model.HostedZone
	counts := map[string]int64{}
	_, err := s.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if zones, err = store.ListJSON[model.HostedZone](tx, model.PrefixZones); err != nil {
			return err
		}
		kvs, err := tx.List(model.PrefixRecordSets)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			zid, _, _ := strings.Cut(strings.TrimPrefix(kv.Key, model.PrefixRecordSets), "/")
			counts[zid]++
		}
		return nil
	})
	return zones, counts, err
}

// maxItems parses a maxitems query parameter: def when absent, capped at
// limit, InvalidInput when not a positive number.
func maxItems(r *http.Request, def, limit int) (int, error) {
	v := r.URL.Query().Get("maxitems")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, awserr.Errorf(awserr.R53InvalidInput, "Invalid value for MaxItems: %s", v)
	}
	return min(n, limit), nil
}

func (s *Service) listHostedZones(w http.ResponseWriter, r *http.Request) error {
	n, err := maxItems(r, 100, 100)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("delegationsetid") != "" {
		return &awserr.Error{Code: "NoSuchDelegationSet", Message: "A reusable delegation set with the specified ID does not exist.", Status: 400}
	}
	zones, counts, err := s.zonesWithCounts(r)
	if err != nil {
		return err
	}
	if t := q.Get("hostedzonetype"); t != "" {
		if t != "PrivateHostedZone" {
			return validation("Value '%s' at 'hostedZoneType' failed to satisfy constraint: Member must satisfy enum value set: [PrivateHostedZone]", t)
		}
		zones = nil // trustgate has no private zones
	}
	// The store lists by key, so zones are in id order; the marker is the
	// id of the first zone to return.
	marker := q.Get("marker")
	i, _ := slices.BinarySearchFunc(zones, marker, func(z model.HostedZone, m string) int { return cmp.Compare(z.ID, m) })
	zones = zones[i:]
	resp := listHostedZonesResponse{Xmlns: xmlns, Marker: marker, MaxItems: strconv.Itoa(n)}
	if len(zones) > n {
		resp.IsTruncated = true
		resp.NextMarker = zones[n].ID
		zones = zones[:n]
	}
	for _, z := range zones {
		resp.HostedZones.Items = append(resp.HostedZones.Items, zoneXML(z, counts[z.ID]))
	}
	s.writeXML(w, r, http.StatusOK, resp)
	return nil
}

func (s *Service) listHostedZonesByName(w http.ResponseWriter, r *http.Request) error {
	n, err := maxItems(r, 100, 100)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	dnsName, startID := q.Get("dnsname"), q.Get("hostedzoneid")
	if startID != "" && dnsName == "" {
		return awserr.New(awserr.R53InvalidInput, "The value of the hostedzoneid parameter is set, but the value of the dnsname parameter is not.")
	}
	startKey := ""
	if dnsName != "" {
		name, err := model.CanonicalName(dnsName, false)
		if err != nil {
			return awserr.New(awserr.R53InvalidDomainName, err.Error())
		}
		startKey = reversedName(name)
	}
	zones, counts, err := s.zonesWithCounts(r)
	if err != nil {
		return err
	}
	slices.SortFunc(zones, func(a, b model.HostedZone) int {
		return cmp.Or(cmp.Compare(reversedName(a.Name), reversedName(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	i := 0
	for i < len(zones) {
		k := reversedName(zones[i].Name)
		if k > startKey || k == startKey && zones[i].ID >= startID {
			break
		}
		i++
	}
	zones = zones[i:]
	resp := listHostedZonesByNameResponse{Xmlns: xmlns, DNSName: dnsName, HostedZoneID: startID, MaxItems: strconv.Itoa(n)}
	if len(zones) > n {
		resp.IsTruncated = true
		resp.NextDNSName = zones[n].Name
		resp.NextHostedZoneID = zones[n].ID
		zones = zones[:n]
	}
	for _, z := range zones {
		resp.HostedZones.Items = append(resp.HostedZones.Items, zoneXML(z, counts[z.ID]))
	}
	s.writeXML(w, r, http.StatusOK, resp)
	return nil
}

func (s *Service) getHostedZoneCount(w http.ResponseWriter, r *http.Request) error {
	var n int
	_, err := s.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		kvs, err := tx.List(model.PrefixZones)
		n = len(kvs)
		return err
	})
	if err != nil {
		return err
	}
	s.writeXML(w, r, http.StatusOK, getHostedZoneCountResponse{Xmlns: xmlns, HostedZoneCount: int64(n)})
	return nil
}

func (s *Service) deleteHostedZone(w http.ResponseWriter, r *http.Request, rawID string) error {
	id, err := zoneID(rawID)
	if err != nil {
		return err
	}
	ch := s.newChange(id, "")
	rev, err := s.cfg.Store.Update(r.Context(), func(tx store.Tx) error {
		zone, err := getZone(tx, id)
		if err != nil {
			return err
		}
		sets, err := store.ListJSON[model.RecordSet](tx, model.RecordSetsPrefix(id))
		if err != nil {
			return err
		}
		for _, rs := range sets {
			if !(rs.Name == zone.Name && (rs.Type == "SOA" || rs.Type == "NS")) {
				return awserr.New(awserr.R53HostedZoneNotEmpty,
					"The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
			}
		}
		for _, rs := range sets {
			if err := tx.Delete(model.RecordSetKey(id, rs.Name, rs.Type)); err != nil {
				return err
			}
		}
		if err := tx.Delete(model.ZoneKey(id)); err != nil {
			return err
		}
		return store.PutJSON(tx, model.ChangeKey(ch.ID), ch)
	})
	if err != nil {
		return err
	}
	s.log.Info("hosted zone deleted", "zone", id)
	s.writeXML(w, r, http.StatusOK, deleteHostedZoneResponse{Xmlns: xmlns, ChangeInfo: s.landed(ch, rev)})
	return nil
}

// reversedName is Route 53's listing order key: labels reversed, with the
// trailing dot ("www.example.com." -> "com.example.www.").
func reversedName(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "."
}
