package store

import "testing"

func TestIDPrefix(t *testing.T) {
	cases := map[string]string{
		"TKN-1234-5678": "TKN-1234-5678", "tkn-1234-5678": "TKN-1234-5678", "12345678": "TKN-1234-5678",
		"1234-5678": "TKN-1234-5678", "tkn 1234": "TKN-1234", "1234": "TKN-1234", "1234-5": "TKN-1234-5",
		"TKN": "TKN-", "TKN-": "TKN-", "12345": "TKN-1234-5",
		"12-34": "", "sync": "", "123456789": "", "TKN-12a4": "", "": "", "MOD-1234": "",
	}
	for q, want := range cases {
		got, ok := idPrefix(q)
		if got != want || ok != (want != "") {
			t.Errorf("idPrefix(%q) = %q, %v; want %q", q, got, ok, want)
		}
	}
	if prefixEnd("TKN-1239") != "TKN-123:" || prefixEnd("TKN-") != "TKN." {
		t.Error("prefixEnd does not bound the prefix")
	}
}
