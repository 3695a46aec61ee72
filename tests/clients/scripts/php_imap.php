<?php
// The library scenario (see clientlib.py) with PHP's imap extension (UW c-client).
// The certificate is verified through OpenSSL's default paths (SSL_CERT_FILE).
[$_, $host, $port, $ca, $user, $pass, $draft] = $argv;
$server = "{" . $host . ":" . $port . "/imap/ssl}";
$mbox = imap_open($server . "INBOX", $user, $pass, 0, 1);
if (!$mbox) { fwrite(STDERR, "open: " . imap_last_error() . "\n"); exit(1); }
function check($r, $what) {
    if ($r === false) { fwrite(STDERR, "$what: " . imap_last_error() . "\n"); exit(1); }
    return $r;
}
$folders = [];
foreach (check(imap_list($mbox, $server, "*"), "list") as $f) {
    $folders[] = substr($f, strlen($server));  // modified UTF-7: this build lacks imap_mutf7_to_utf8
}
$unseen = imap_search($mbox, "UNSEEN", SE_UID) ?: [];
// Message-ID -> UID, as PHP webmails do it: from the overview.
$uids = [];
$flags = [];
foreach (check(imap_fetch_overview($mbox, "1:*", 0), "overview") as $o) {
    $id = preg_replace('/^<(.*)@seed\.petrel\.test>$/', '$1', $o->message_id);
    $uids[$id] = $o->uid;
    $flags[$id] = $o;
}
$subject = imap_utf8($flags["m04-rfc2047"]->subject);
$m03 = $uids["m03-attachments"];
$st = check(imap_fetchstructure($mbox, $m03, FT_UID), "structure");
if (strtolower($st->parts[1]->subtype) !== "pdf") { fwrite(STDERR, "structure: part 2 is not the PDF\n"); exit(1); }
$pdf = base64_decode(check(imap_fetchbody($mbox, $m03, "2", FT_UID | FT_PEEK), "fetchbody"));
$m03_flags = [];
if ($flags["m03-attachments"]->seen) $m03_flags[] = "\\Seen";
if ($flags["m03-attachments"]->flagged) $m03_flags[] = "\\Flagged";
$big = check(imap_fetchbody($mbox, $uids["m06-big"], "", FT_UID | FT_PEEK), "fetch big");

check(imap_setflag_full($mbox, (string)$uids["m01-plain"], "\\Flagged", ST_UID), "setflag");
check(imap_mail_copy($mbox, (string)$uids["m02-alternative"], "Archive", CP_UID), "copy");
check(imap_mail_move($mbox, (string)$uids["m07-lunch"], "Projects/Alpha", CP_UID), "move");
check(imap_delete($mbox, (string)$uids["m08-reply"], FT_UID), "delete");
check(imap_expunge($mbox), "expunge");

check(imap_append($mbox, $server . "Entw&APw-rfe"  /* imap_utf7_encode() of PHP 8.2.36 yields "Entw&,A-rfe" */, file_get_contents($draft), "\\Draft"), "append");
check(imap_createmailbox($mbox, $server . "Library/A"), "create");
check(imap_renamemailbox($mbox, $server . "Library/A", $server . "Library/B"), "rename");
check(imap_deletemailbox($mbox, $server . "Projects/Alpha/Archiv 2025"), "deletemailbox");
imap_close($mbox);
$errors = imap_errors();
if ($errors) fwrite(STDERR, "c-client errors: " . implode("; ", $errors) . "\n");

echo json_encode(["folders" => $folders, "unseen" => $unseen, "subject" => $subject,
    "pdf_sha256" => hash("sha256", $pdf), "big_size" => strlen($big),
    "m03_flags" => $m03_flags], JSON_UNESCAPED_UNICODE), "\n";
