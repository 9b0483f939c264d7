// Package config loads and checks globex's YAML configuration (CONTRACT §2).
//
// Loading is strict: an unknown key is an error that names the key and its
// line, and every relative path is resolved against the folder of the
// configuration file, so `globex run -c D:\globex\globex.yaml` behaves the same
// from any working directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Kinds of exchange.
const (
	KindOrders    = "orders"
	KindItems     = "items"
	KindPrices    = "prices"
	KindCustomers = "customers"
	KindStock     = "stock"
)

// Config is the whole configuration file.
type Config struct {
	StateDir   string     `yaml:"state_dir"`
	ArchiveDir string     `yaml:"archive_dir"`
	LogFile    string     `yaml:"log_file"`
	LogLevel   string     `yaml:"log_level"`
	Exchanges  []Exchange `yaml:"exchanges"`

	// Path is the absolute path of the file this was loaded from.
	Path string `yaml:"-"`
}

// Exchange is one pipeline: a source, a kind of mapping and a target.
type Exchange struct {
	Name           string   `yaml:"name"`
	Kind           string   `yaml:"kind"`
	Administration string   `yaml:"administration"`
	Source         Source   `yaml:"source"`
	Target         Target   `yaml:"target"`
	Orders         Orders   `yaml:"orders"`
	Formats        []string `yaml:"formats"`
	Feed           Feed     `yaml:"feed"`
	// Workers is how many input files are handled at once (orders only;
	// default 4). Feeds are always handled one file at a time.
	Workers int `yaml:"workers"`

	line int
}

// Source is where input files come from: a local (or mounted) folder, or an
// SFTP drop.
type Source struct {
	Dir          string        `yaml:"dir"`
	SFTP         *SFTP         `yaml:"sftp"`
	Include      []string      `yaml:"include"`
	Exclude      []string      `yaml:"exclude"`
	StableFor    time.Duration `yaml:"stable_for"`
	ScanInterval time.Duration `yaml:"scan_interval"`
	DoneSuffix   string        `yaml:"done_suffix"`
	MaxSize      ByteSize      `yaml:"max_size"`
	After        string        `yaml:"after"`
	MoveTo       string        `yaml:"move_to"`
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Target is where outputs go: the ERP import folder for orders, the feed
// folder for feeds.
type Target struct {
	Dir  string `yaml:"dir"`
	SFTP *SFTP  `yaml:"sftp"`
}

// SFTP is an SFTP end point (CONTRACT §2).
type SFTP struct {
	Host           string        `yaml:"host"`
	Port           int           `yaml:"port"`
	User           string        `yaml:"user"`
	KeyFile        string        `yaml:"key_file"`
	PassphraseEnv  string        `yaml:"passphrase_env"`
	PassphraseFile string        `yaml:"passphrase_file"`
	PasswordEnv    string        `yaml:"password_env"`
	KnownHosts     string        `yaml:"known_hosts"`
	Dir            string        `yaml:"dir"`
	AllowSSHRSA    bool          `yaml:"allow_ssh_rsa"`
	Timeout        time.Duration `yaml:"timeout"`
	MaxSessions    int           `yaml:"max_sessions"`
	UploadStrategy string        `yaml:"upload_strategy"`
}

// Orders holds the order-path options (kind: orders).
type Orders struct {
	OrderNumberField  string            `yaml:"order_number_field"`
	ResourceNumber    int               `yaml:"resource_number"`
	NoteDocumentType  int               `yaml:"note_document_type"`
	NoteSubject       string            `yaml:"note_subject"`
	DefaultWarehouse  string            `yaml:"default_warehouse"`
	DefaultCurrency   string            `yaml:"default_currency"`
	DeliveryMethods   map[string]string `yaml:"delivery_methods"`
	PaymentConditions map[string]string `yaml:"payment_conditions"`
	Units             map[string]string `yaml:"units"`
	OmitPrices        bool              `yaml:"omit_prices"`
	AllOrNothing      bool              `yaml:"all_or_nothing"`
	// CheckItems and CheckCustomers name an items and a customers exchange:
	// orders for items or debtors that their last export does not have, or
	// has as blocked, are refused before Globe sees them.
	CheckItems     string `yaml:"check_items"`
	CheckCustomers string `yaml:"check_customers"`
}

// Feed holds the options of the feed kinds (items, prices, customers, stock).
type Feed struct {
	// Administrations picks the administration from the input's file name
	// (glob pattern → administration); records of all administrations are
	// combined into one feed. Without it, every record gets the exchange's
	// administration.
	Administrations map[string]string `yaml:"administrations"`

	// items
	Languages       map[int]string `yaml:"languages"`
	MainLanguage    string         `yaml:"main_language"`
	DefaultLanguage string         `yaml:"default_language"`
	Attributes      []Attribute    `yaml:"attributes"`
	Statuses        []string       `yaml:"statuses"`
	ItemTypes       []string       `yaml:"item_types"`
	SalesOnly       *bool          `yaml:"sales_only"`
	Currency        string         `yaml:"currency"`

	// customers (statuses and currency above apply too)
	AccountTypes []string          `yaml:"account_types"`
	AddressTypes map[string]string `yaml:"address_types"`

	// stock
	Warehouses         []string          `yaml:"warehouses"`
	SafetyStock        string            `yaml:"safety_stock"`
	LowStockThreshold  string            `yaml:"low_stock_threshold"`
	Display            string            `yaml:"display"`
	Cap                string            `yaml:"cap"`
	SubtractOrdersFrom []string          `yaml:"subtract_orders_from"`
	Encoding           string            `yaml:"encoding"`
	Delimiter          string            `yaml:"delimiter"`
	DecimalSeparator   string            `yaml:"decimal_separator"`
	Columns            map[string]string `yaml:"columns"`
	Sheet              string            `yaml:"sheet"`
	SkipBadRows        bool              `yaml:"skip_bad_rows"`

	// prices
	ItemsExchange string `yaml:"items_exchange"`
}

// Attribute says which free field of an item becomes which attribute.
type Attribute struct {
	Field  string `yaml:"field"`  // text, number, yesno, date, option, class
	Number int    `yaml:"number"` // the free field's number
	Label  string `yaml:"label"`  // or: select the field by its label in the export
	Name   string `yaml:"name"`   // the attribute name in the feed
}

// ByteSize is a size in bytes, written in YAML as 64MB, 512KB, 1GB or a number.
type ByteSize int64

// UnmarshalYAML reads "64MB" style sizes.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(strings.ToUpper(n.Value))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			mult = u.m
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suf))
			break
		}
	}
	var v int64
	if _, err := fmt.Sscanf(s, "%d", &v); err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a size (write it like 64MB)", n.Line, n.Value)
	}
	*b = ByteSize(v * mult)
	return nil
}

// Defaults.
const (
	DefaultStableFor    = time.Second
	DefaultScanInterval = 2 * time.Second
	DefaultPollInterval = 10 * time.Second
	DefaultMaxSize      = ByteSize(64 << 20)
	// DefaultMaxExportSize bounds Globe exports; they are streamed, so this
	// only guards against a runaway file.
	DefaultMaxExportSize = ByteSize(4 << 30)
)

// DefaultIncludes are the glob patterns used when an exchange names none.
var DefaultIncludes = map[string][]string{
	KindOrders:    {"*.json", "*.csv", "*.xlsx"},
	KindItems:     {"*.xml"},
	KindPrices:    {"*.xml"},
	KindCustomers: {"*.xml"},
	KindStock:     {"*.csv", "*.xlsx", "*.txt"},
}

var nameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// Load reads, strictly decodes, defaults and validates the file at path.
// Validation problems are returned together as a *Problems error.
func Load(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot read the configuration file: %w", err)
	}
	c, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	c.Path = abs
	return c, nil
}

// Parse decodes configuration text; relative paths resolve against baseDir.
func Parse(data []byte, baseDir string) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not valid YAML: %v", err)
	}
	c := &Config{}
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, friendlyYAMLError(err)
	}
	// remember where each exchange starts for messages
	if len(root.Content) > 0 {
		for i := 0; i+1 < len(root.Content[0].Content); i += 2 {
			if root.Content[0].Content[i].Value == "exchanges" {
				for j, ex := range root.Content[0].Content[i+1].Content {
					if j < len(c.Exchanges) {
						c.Exchanges[j].line = ex.Line
					}
				}
			}
		}
	}
	c.applyDefaults(baseDir)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var fieldNotFound = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)

func friendlyYAMLError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, e := range te.Errors {
			if m := fieldNotFound.FindStringSubmatch(e); m != nil {
				msgs = append(msgs, fmt.Sprintf("line %s: unknown key %q (check its spelling and indentation; the README lists every key)", m[1], m[2]))
				continue
			}
			msgs = append(msgs, e)
		}
		return &Problems{List: msgs}
	}
	return fmt.Errorf("not valid YAML: %v", err)
}

// Problems is a list of configuration problems, one plain sentence each.
type Problems struct{ List []string }

func (p *Problems) Error() string { return strings.Join(p.List, "\n") }

func (p *Problems) add(format string, args ...any) {
	p.List = append(p.List, fmt.Sprintf(format, args...))
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) || isWindowsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// isWindowsAbs recognises D:\x and \\server\share forms on any OS, so a
// configuration written for Windows is not mangled when checked elsewhere.
func isWindowsAbs(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z'))
}

func (c *Config) applyDefaults(base string) {
	if c.StateDir == "" {
		c.StateDir = "state"
	}
	if c.ArchiveDir == "" {
		c.ArchiveDir = "archive"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	c.StateDir = resolve(base, c.StateDir)
	c.ArchiveDir = resolve(base, c.ArchiveDir)
	c.LogFile = resolve(base, c.LogFile)
	for i := range c.Exchanges {
		ex := &c.Exchanges[i]
		s := &ex.Source
		if len(s.Include) == 0 {
			s.Include = DefaultIncludes[ex.Kind]
		}
		if s.StableFor == 0 {
			s.StableFor = DefaultStableFor
		}
		if s.ScanInterval == 0 {
			s.ScanInterval = DefaultScanInterval
		}
		if s.PollInterval == 0 {
			s.PollInterval = DefaultPollInterval
		}
		if s.MaxSize == 0 {
			s.MaxSize = DefaultMaxSize
			if ex.Kind != KindOrders {
				s.MaxSize = DefaultMaxExportSize
			}
		}
		if s.After == "" {
			s.After = "move"
		}
		if s.MoveTo == "" {
			s.MoveTo = "processed"
		}
		s.Dir = resolve(base, s.Dir)
		ex.Target.Dir = resolve(base, ex.Target.Dir)
		for _, sf := range []*SFTP{s.SFTP, ex.Target.SFTP} {
			if sf == nil {
				continue
			}
			if sf.Port == 0 {
				sf.Port = 22
			}
			if sf.Timeout == 0 {
				sf.Timeout = 30 * time.Second
			}
			if sf.MaxSessions == 0 {
				sf.MaxSessions = 2
			}
			sf.KeyFile = resolve(base, sf.KeyFile)
			sf.PassphraseFile = resolve(base, sf.PassphraseFile)
			sf.KnownHosts = resolve(base, sf.KnownHosts)
		}
		if ex.Workers == 0 {
			ex.Workers = 1
			if ex.Kind == KindOrders {
				ex.Workers = 4
			}
		}
		if len(ex.Formats) == 0 {
			ex.Formats = []string{"jsonl", "csv"}
		}
		o := &ex.Orders
		if o.OrderNumberField == "" {
			o.OrderNumberField = "description"
		}
		if o.NoteDocumentType == 0 {
			o.NoteDocumentType = 2
		}
		if o.NoteSubject == "" {
			o.NoteSubject = "Webshop remark"
		}
		if o.DefaultCurrency == "" {
			o.DefaultCurrency = "EUR"
		}
	}
}

var orderNumberFields = map[string]bool{"description": true, "yourref": true, "reference1": true,
	"reference2": true, "reference3": true, "freetext1": true, "freetext2": true, "freetext3": true}

// Validate checks the configuration itself (not the environment; see Check).
func (c *Config) Validate() error {
	p := &Problems{}
	if len(c.Exchanges) == 0 {
		p.add("no exchanges are configured: add at least one under `exchanges:`")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.add("log_level %q is not one of debug, info, warn, error", c.LogLevel)
	}
	seen := map[string]int{}
	for i := range c.Exchanges {
		ex := &c.Exchanges[i]
		where := fmt.Sprintf("exchange %d (line %d)", i+1, ex.line)
		if ex.Name != "" {
			where = fmt.Sprintf("exchange %q (line %d)", ex.Name, ex.line)
		}
		if !nameRE.MatchString(ex.Name) {
			p.add("%s: name %q must be lower-case letters, digits and dashes (it is used in archive folder names)", where, ex.Name)
		}
		if prev, ok := seen[ex.Name]; ok {
			p.add("%s: the name is already used by the exchange on line %d; names must be unique", where, prev)
		}
		seen[ex.Name] = ex.line
		switch ex.Kind {
		case KindOrders, KindItems, KindPrices, KindCustomers, KindStock:
		default:
			p.add("%s: kind %q is not one of orders, items, prices, customers, stock", where, ex.Kind)
		}
		s := ex.Source
		switch {
		case s.Dir == "" && s.SFTP == nil:
			p.add("%s: source needs `dir` (a folder) or an `sftp:` block", where)
		case s.Dir != "" && s.SFTP != nil:
			p.add("%s: source has both `dir` and `sftp:`; choose one", where)
		}
		switch {
		case ex.Target.Dir == "" && ex.Target.SFTP == nil:
			p.add("%s: target needs `dir` (a folder) or an `sftp:` block", where)
		case ex.Target.Dir != "" && ex.Target.SFTP != nil:
			p.add("%s: target has both `dir` and `sftp:`; choose one", where)
		}
		for _, g := range append(append([]string{}, s.Include...), s.Exclude...) {
			if _, err := filepath.Match(g, "x"); err != nil || strings.ContainsAny(g, `/\`) {
				p.add("%s: %q is not a valid file name pattern (use patterns like *.json, without folders)", where, g)
			}
		}
		switch s.After {
		case "move", "delete", "keep":
		default:
			p.add("%s: source.after %q is not one of move, delete, keep", where, s.After)
		}
		if s.StableFor < 0 || s.ScanInterval < 0 {
			p.add("%s: stable_for and scan_interval must be positive durations like 1s", where)
		}
		for _, sf := range []*SFTP{s.SFTP, ex.Target.SFTP} {
			if sf == nil {
				continue
			}
			if sf.Host == "" || sf.User == "" {
				p.add("%s: an sftp block needs host and user", where)
			}
			if sf.KnownHosts == "" {
				p.add("%s: sftp known_hosts is required: globex never trusts a server's key silently; create it with `globex trust -c FILE %s`", where, ex.Name)
			}
			if sf.KeyFile == "" && sf.PasswordEnv == "" {
				p.add("%s: sftp needs key_file or password_env", where)
			}
			switch sf.UploadStrategy {
			case "", "posix-rename", "rename", "direct":
			default:
				p.add("%s: sftp upload_strategy %q is not one of posix-rename, rename, direct", where, sf.UploadStrategy)
			}
		}
		if ex.Workers < 1 || ex.Workers > 64 || (ex.Kind != KindOrders && ex.Workers != 1) {
			p.add("%s: workers %d must be 1 to 64, and 1 for feed kinds", where, ex.Workers)
		}
		for _, f := range ex.Formats {
			switch f {
			case "jsonl", "csv", "xlsx":
			default:
				p.add("%s: format %q is not one of jsonl, csv, xlsx", where, f)
			}
		}
		for _, ref := range []struct{ key, name, kind string }{
			{"orders.check_items", ex.Orders.CheckItems, KindItems},
			{"orders.check_customers", ex.Orders.CheckCustomers, KindCustomers},
			{"feed.items_exchange", ex.Feed.ItemsExchange, KindItems},
		} {
			if ref.name == "" {
				continue
			}
			if other, ok := c.Exchange(ref.name); !ok || other.Kind != ref.kind {
				p.add("%s: %s names %q, which is not an exchange of kind %s in this file", where, ref.key, ref.name, ref.kind)
			}
		}
		for _, n := range ex.Feed.SubtractOrdersFrom {
			if other, ok := c.Exchange(n); !ok || other.Kind != KindOrders {
				p.add("%s: feed.subtract_orders_from names %q, which is not an orders exchange in this file", where, n)
			}
		}
		for pat := range ex.Feed.Administrations {
			if _, err := filepath.Match(pat, "x"); err != nil {
				p.add("%s: feed.administrations pattern %q is not a valid file name pattern", where, pat)
			}
		}
		switch ex.Feed.Display {
		case "", "exact", "capped", "class":
		default:
			p.add("%s: feed.display %q is not one of exact, capped, class", where, ex.Feed.Display)
		}
		if ex.Kind == KindOrders {
			if !orderNumberFields[ex.Orders.OrderNumberField] {
				p.add("%s: orders.order_number_field %q is not one of description, yourref, reference1-3, freetext1-3", where, ex.Orders.OrderNumberField)
			}
			if len(ex.Orders.DefaultCurrency) != 3 {
				p.add("%s: orders.default_currency %q must be a 3-letter ISO code like EUR", where, ex.Orders.DefaultCurrency)
			}
		}
	}
	if len(p.List) > 0 {
		return p
	}
	return nil
}

// Exchange returns the exchange with the given name.
func (c *Config) Exchange(name string) (*Exchange, bool) {
	for i := range c.Exchanges {
		if c.Exchanges[i].Name == name {
			return &c.Exchanges[i], true
		}
	}
	return nil, false
}

// Line is the line of the configuration file where the exchange starts.
func (e *Exchange) Line() int { return e.line }
