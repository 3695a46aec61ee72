// The library scenario (see tests/clients/clientlib.py) with
// github.com/emersion/go-imap v1 (Debian's golang-github-emersion-go-imap-dev),
// built offline in GOPATH mode by test_go_imap.py.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

func must(err error, what string) {
	if err != nil {
		log.Fatalf("%s: %v", what, err)
	}
}

func main() {
	a := os.Args[1:]
	host, port, ca, user, pass, draft := a[0], a[1], a[2], a[3], a[4], a[5]
	pem, err := os.ReadFile(ca)
	must(err, "read ca")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := client.DialTLS(host+":"+port, &tls.Config{RootCAs: pool, ServerName: host})
	must(err, "dial")
	must(c.Login(user, pass), "login")

	out := map[string]interface{}{}
	ch := make(chan *imap.MailboxInfo, 64)
	done := make(chan error, 1)
	go func() { done <- c.List("", "*", ch) }()
	folders := []string{}
	for m := range ch {
		folders = append(folders, m.Name)
	}
	must(<-done, "list")
	out["folders"] = folders

	_, err = c.Select("INBOX", false)
	must(err, "select")
	crit := imap.NewSearchCriteria()
	crit.WithoutFlags = []string{imap.SeenFlag}
	unseen, err := c.UidSearch(crit)
	must(err, "search unseen")
	out["unseen"] = unseen

	uidOf := func(id string) *imap.SeqSet {
		crit := imap.NewSearchCriteria()
		crit.Header.Add("Message-ID", "<"+id+"@seed.petrel.test>")
		r, err := c.UidSearch(crit)
		must(err, "search "+id)
		if len(r) != 1 {
			log.Fatalf("search %s: %v", id, r)
		}
		s := new(imap.SeqSet)
		s.AddNum(r[0])
		return s
	}
	fetchOne := func(set *imap.SeqSet, items []imap.FetchItem) *imap.Message {
		mc := make(chan *imap.Message, 1)
		must(c.UidFetch(set, items, mc), "fetch")
		m := <-mc
		if m == nil {
			log.Fatal("fetch: no message")
		}
		return m
	}

	env := fetchOne(uidOf("m04-rfc2047"), []imap.FetchItem{imap.FetchEnvelope}).Envelope
	subject := env.Subject
	if strings.Contains(subject, "=?") {
		dec := new(mime.WordDecoder)
		subject, err = dec.DecodeHeader(subject)
		must(err, "decode subject")
	}
	out["subject"] = subject

	m03 := uidOf("m03-attachments")
	section := &imap.BodySectionName{BodyPartName: imap.BodyPartName{Path: []int{2}}, Peek: true}
	msg := fetchOne(m03, []imap.FetchItem{imap.FetchFlags, imap.FetchBodyStructure, section.FetchItem()})
	if msg.BodyStructure.Parts[1].MIMESubType != "pdf" {
		log.Fatalf("part 2 is %s/%s", msg.BodyStructure.Parts[1].MIMEType, msg.BodyStructure.Parts[1].MIMESubType)
	}
	b64, err := io.ReadAll(msg.GetBody(section))
	must(err, "read part")
	pdf, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(b64)))
	must(err, "base64")
	sum := sha256.Sum256(pdf)
	out["pdf_sha256"] = hex.EncodeToString(sum[:])
	out["m03_flags"] = msg.Flags

	whole := &imap.BodySectionName{}
	big := fetchOne(uidOf("m06-big"), []imap.FetchItem{whole.FetchItem()})
	raw, err := io.ReadAll(big.GetBody(whole))
	must(err, "read big")
	out["big_size"] = len(raw)

	must(c.UidStore(uidOf("m01-plain"), imap.FormatFlagsOp(imap.AddFlags, true),
		[]interface{}{imap.FlaggedFlag}, nil), "store")
	must(c.UidCopy(uidOf("m02-alternative"), "Archive"), "copy")
	must(c.UidMove(uidOf("m07-lunch"), "Projects/Alpha"), "move")
	must(c.UidStore(uidOf("m08-reply"), imap.FormatFlagsOp(imap.AddFlags, true),
		[]interface{}{imap.DeletedFlag}, nil), "store deleted")
	must(c.Expunge(nil), "expunge")

	d, err := os.ReadFile(draft)
	must(err, "read draft")
	must(c.Append("Entwürfe", []string{imap.DraftFlag}, time.Now(), bytes.NewBuffer(d)), "append")
	must(c.Create("Library/A"), "create")
	must(c.Rename("Library/A", "Library/B"), "rename")
	must(c.Delete("Projects/Alpha/Archiv 2025"), "delete")
	must(c.Logout(), "logout")

	j, _ := json.Marshal(out)
	fmt.Println(string(j))
}
