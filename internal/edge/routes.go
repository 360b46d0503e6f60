package edge

import (
	"fmt"
	"sort"
	"strings"

	"trustgate/internal/model"
)

// mappingTable routes a domain's paths to stages: the longest mapping key on
// segment boundaries wins, then the (none) mapping (key ""). Immutable.
type mappingTable struct {
	byKey    map[string]*mappingRoute // by canonical key
	maxDepth int
}

// mappingRoute is one API mapping, resolved to the stage it serves.
type mappingRoute struct {
	key   string // as configured; "" for (none)
	apiID string
	stage string
	// target is nil when the API, stage or deployment does not exist.
	target *stageBuild
}

// logKey is the mapping key as the access log shows it.
func (m *mappingRoute) logKey() string {
	if m.key == "" {
		return model.NoneKey
	}
	return m.key
}

// lookup returns the mapping for p and how many leading segments its key
// consumed, or nil when nothing (not even (none)) matches.
func (t *mappingTable) lookup(p *reqPath) (*mappingRoute, int) {
	if t == nil {
		return nil, 0
	}
	for k := min(len(p.segs), t.maxDepth); k >= 1; k-- {
		if m := t.byKey[p.canon[:p.prefixEnd(k)]]; m != nil {
			return m, k
		}
	}
	if m := t.byKey[""]; m != nil {
		return m, 0
	}
	return nil, 0
}

// stageBuild is a stage with the compiled deployment it points at.
type stageBuild struct {
	apiID string
	name  string
	// deployment is nil when the stage's deployment does not exist.
	deployment *deploymentBuild
	vars       map[string]string
}

// deploymentBuild is a deployment's frozen API, compiled. Deployments never
// change, so a build is reused by every later snapshot that still has it.
type deploymentBuild struct {
	apiID             string
	id                string
	sum               [32]byte // SHA-256 of the stored record
	disableExecuteAPI bool
	root              *resNode
	// err is why the resource tree could not be compiled; every request
	// routed to this deployment then gets a 500.
	err error
}

// resNode is one node of a compiled resource tree.
type resNode struct {
	// path is the resource path ("/customer/{id}"), "" for a node that is
	// only a prefix of other resources.
	path    string
	literal map[string]*resNode
	param   *resNode
	pname   string
	greedy  *resNode // {name+}: a leaf that takes one or more segments
	gname   string
	methods map[string]*methodBuild // by HTTP method, "ANY" included
}

// methodBuild is a method with its compiled integration.
type methodBuild struct {
	httpMethod string
	resource   string
	integ      *integrationBuild
}

// pathParam is one matched path parameter. greedyFrom >= 0 marks a {name+}
// parameter, whose value is the path from that segment on.
type pathParam struct {
	name       string
	value      string
	greedyFrom int
}

// match finds the resource for segs: literal children before a {param}
// child before a {proxy+} child, backtracking when a more specific branch
// leads nowhere. It appends path parameters to *params.
func (n *resNode) match(p *reqPath, i int, params *[]pathParam) *resNode {
	if i == len(p.segs) {
		if n.path != "" {
			return n
		}
		return nil
	}
	seg := p.segs[i]
	if c := n.literal[seg]; c != nil {
		if r := c.match(p, i+1, params); r != nil {
			return r
		}
	}
	if n.param != nil {
		mark := len(*params)
		*params = append(*params, pathParam{name: n.pname, value: seg, greedyFrom: -1})
		if r := n.param.match(p, i+1, params); r != nil {
			return r
		}
		*params = (*params)[:mark]
	}
	if n.greedy != nil && n.greedy.path != "" {
		*params = append(*params, pathParam{name: n.gname, greedyFrom: i})
		return n.greedy
	}
	return nil
}

// method returns the node's method for an HTTP method, or its ANY method.
func (n *resNode) method(m string) *methodBuild {
	if mb := n.methods[m]; mb != nil {
		return mb
	}
	return n.methods["ANY"]
}

// compileDeployment compiles a deployment's resource tree.
func compileDeployment(d *model.Deployment, sum [32]byte) *deploymentBuild {
	b := &deploymentBuild{apiID: d.APIID, id: d.ID, sum: sum, disableExecuteAPI: d.API.DisableExecuteAPIEndpoint}
	root, err := compileResources(d.API.Resources)
	if err != nil {
		b.err = fmt.Errorf("compiling deployment %s of API %s: %w", d.ID, d.APIID, err)
		return b
	}
	b.root = root
	return b
}

func compileResources(resources []model.Resource) (*resNode, error) {
	root := &resNode{}
	// Sorted by path so compilation (and its errors) do not depend on
	// storage order.
	sorted := make([]*model.Resource, len(resources))
	for i := range resources {
		sorted[i] = &resources[i]
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, r := range sorted {
		n, err := root.insert(r.Path)
		if err != nil {
			return nil, err
		}
		n.path = r.Path
		if n.path == "" {
			n.path = "/"
		}
		if len(r.Methods) > 0 && n.methods == nil {
			n.methods = make(map[string]*methodBuild, len(r.Methods))
		}
		for verb, m := range r.Methods {
			if m == nil {
				continue
			}
			verb = strings.ToUpper(verb)
			n.methods[verb] = &methodBuild{httpMethod: verb, resource: n.path, integ: compileIntegration(m.Integration)}
		}
	}
	return root, nil
}

// insert walks (creating) the nodes of a resource path.
func (n *resNode) insert(path string) (*resNode, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		switch {
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "+}"):
			name := part[1 : len(part)-2]
			if name == "" {
				return nil, fmt.Errorf("resource %s: empty greedy parameter name", path)
			}
			if i != len(parts)-1 {
				return nil, fmt.Errorf("resource %s: a greedy parameter must be the last part of the path", path)
			}
			if n.greedy == nil {
				n.greedy = &resNode{}
				n.gname = name
			} else if n.gname != name {
				return nil, fmt.Errorf("resource %s: greedy parameter {%s+} conflicts with {%s+}", path, name, n.gname)
			}
			n = n.greedy
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if name == "" {
				return nil, fmt.Errorf("resource %s: empty path parameter name", path)
			}
			if n.param == nil {
				n.param = &resNode{}
				n.pname = name
			} else if n.pname != name {
				return nil, fmt.Errorf("resource %s: path parameter {%s} conflicts with {%s}", path, name, n.pname)
			}
			n = n.param
		default:
			if n.literal == nil {
				n.literal = make(map[string]*resNode)
			}
			c := n.literal[part]
			if c == nil {
				c = &resNode{}
				n.literal[part] = c
			}
			n = c
		}
	}
	return n, nil
}
