#!/usr/bin/perl
# The library scenario (see clientlib.py) with Net::IMAP::Simple, which works
# on message sequence numbers; UIDs come from its uid() method.
use strict;
use warnings;
use Net::IMAP::Simple;
use IO::Socket::SSL;
use MIME::Base64;
use Digest::SHA qw(sha256_hex);
use Encode qw(decode);
use JSON::PP;

my ($host, $port, $ca, $user, $pass, $draft) = @ARGV;
my $imap = Net::IMAP::Simple->new("$host:$port", use_ssl => 1, timeout => 60,
    ssl_options => [ SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => $ca,
                     SSL_verifycn_name => $host, SSL_verifycn_scheme => 'imap' ])
    or die "connect: $Net::IMAP::Simple::errstr";
$imap->login($user, $pass) or die "login: " . $imap->errstr;

my @folders = $imap->mailboxes;
die "mailboxes: " . $imap->errstr unless @folders;
defined $imap->select("INBOX") or die "select: " . $imap->errstr;
my @unseen = map { ($imap->uid($_))[0] } $imap->search_unseen;

sub seq_of {
    my ($id) = @_;
    my @r = $imap->search(qq{HEADER Message-ID "<$id\@seed.petrel.test>"});
    die "search $id: @r " . ($imap->errstr // '') unless @r == 1;
    return $r[0];
}

my $m04 = $imap->top(seq_of("m04-rfc2047")) or die "top: " . $imap->errstr;
my ($subject) = map { /^Subject:\s*(.*?)\r?\n$/si ? $1 : () } @$m04;
$subject = decode('MIME-Header', $subject);

my $m03 = seq_of("m03-attachments");
my $msg = join '', @{ $imap->get($m03) };
my ($pdf_b64) = $msg =~ /filename="rechnung\.pdf"\r?\n\r?\n(.*?)\r?\n--mixed-boundary-2026/s;
my $pdf = decode_base64($pdf_b64);
my @m03_flags = $imap->msg_flags($m03);

my $big = $imap->get(seq_of("m06-big")) or die "get big: " . $imap->errstr;

$imap->add_flags(seq_of("m01-plain"), '\\Flagged') or die "add_flags: " . $imap->errstr;
$imap->copy(seq_of("m02-alternative"), "Archive") or die "copy: " . $imap->errstr;
my $m07 = seq_of("m07-lunch");
$imap->copy($m07, "Projects/Alpha") or die "copy: " . $imap->errstr;
$imap->delete($m07) or die "delete: " . $imap->errstr;
$imap->delete(seq_of("m08-reply")) or die "delete: " . $imap->errstr;
defined $imap->expunge_mailbox("INBOX") or die "expunge: " . $imap->errstr;

open my $fh, '<:raw', $draft or die;
my $d = do { local $/; <$fh> };
$imap->put("Entw&APw-rfe", $d, '\\Draft') or die "put: " . $imap->errstr;
$imap->create_mailbox("Library/A") or die "create: " . $imap->errstr;
$imap->rename_mailbox("Library/A", "Library/B") or die "rename: " . $imap->errstr;
$imap->delete_mailbox("Projects/Alpha/Archiv 2025") or die "delete_mailbox: " . $imap->errstr;
$imap->quit;

print JSON::PP->new->canonical->encode({
    folders => \@folders, unseen => [map { $_ + 0 } @unseen], subject => $subject,
    pdf_sha256 => sha256_hex($pdf), big_size => length(join '', @$big), m03_flags => \@m03_flags,
}), "\n";
