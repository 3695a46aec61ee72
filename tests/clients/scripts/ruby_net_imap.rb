# The library scenario (see clientlib.py) with Ruby's net/imap.
require "net/imap"
require "openssl"
require "digest"
require "json"
require "base64"

host, port, ca, user, pass, draft = ARGV
imap = Net::IMAP.new(host, port: port.to_i,
                     ssl: { ca_file: ca, verify_mode: OpenSSL::SSL::VERIFY_PEER })
imap.login(user, pass)

folders = imap.list("", "*").map { |m| Net::IMAP.decode_utf7(m.name) }
imap.select("INBOX")
unseen = imap.uid_search(["UNSEEN"])

def uid_of(imap, id)
  r = imap.uid_search(["HEADER", "Message-ID", "<#{id}@seed.petrel.test>"])
  raise "search #{id}: #{r.inspect}" unless r.size == 1
  r[0]
end

m04 = uid_of(imap, "m04-rfc2047")
env = imap.uid_fetch(m04, "ENVELOPE")[0].attr["ENVELOPE"]
# net/imap leaves RFC 2047 alone; decode it as Ruby users do (Mail gem-less).
subject = env.subject.gsub(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/) do
  charset, enc, text = $1, $2.upcase, $3
  raw = enc == "B" ? Base64.decode64(text) : text.gsub("_", " ").unpack1("M")
  raw.force_encoding(charset).encode("UTF-8")
end

m03 = uid_of(imap, "m03-attachments")
bs = imap.uid_fetch(m03, "BODYSTRUCTURE")[0].attr["BODYSTRUCTURE"]
raise "part 2 is #{bs.parts[1].media_type}/#{bs.parts[1].subtype}" unless bs.parts[1].subtype.upcase == "PDF"
pdf = Base64.decode64(imap.uid_fetch(m03, "BODY.PEEK[2]")[0].attr["BODY[2]"])
m03_flags = imap.uid_fetch(m03, "FLAGS")[0].attr["FLAGS"].map { |f| f.is_a?(Symbol) ? "\\#{f}" : f }
big = imap.uid_fetch(uid_of(imap, "m06-big"), "BODY[]")[0].attr["BODY[]"]

imap.uid_store(uid_of(imap, "m01-plain"), "+FLAGS", [:Flagged])
imap.uid_copy(uid_of(imap, "m02-alternative"), "Archive")
imap.uid_move(uid_of(imap, "m07-lunch"), "Projects/Alpha")
imap.uid_store(uid_of(imap, "m08-reply"), "+FLAGS", [:Deleted])
imap.expunge

imap.append(Net::IMAP.encode_utf7("Entwürfe"), File.binread(draft), [:Draft])
imap.create("Library/A")
imap.rename("Library/A", "Library/B")
imap.delete("Projects/Alpha/Archiv 2025")
imap.logout
imap.disconnect

puts JSON.generate({ folders: folders, unseen: unseen, subject: subject,
                     pdf_sha256: Digest::SHA256.hexdigest(pdf), big_size: big.bytesize,
                     m03_flags: m03_flags })
