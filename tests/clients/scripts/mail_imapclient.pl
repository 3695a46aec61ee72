#!/usr/bin/perl
# The library scenario (see clientlib.py) with Mail::IMAPClient.
use strict;
use warnings;
use Mail::IMAPClient;
use IO::Socket::SSL;
use MIME::Base64;
use Digest::SHA qw(sha256_hex);
use Encode qw(decode);
use JSON::PP;

my ($host, $port, $ca, $user, $pass, $draft) = @ARGV;
my $imap = Mail::IMAPClient->new(
    Server => $host, Port => $port, User => $user, Password => $pass,
    Ssl => [ SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => $ca, SSL_verifycn_name => $host ],
    Uid => 1,
) or die "connect/login: $@";

my @folders = $imap->folders or die "folders: " . $imap->LastError;
$imap->select("INBOX") or die "select: " . $imap->LastError;
my $unseen = $imap->unseen or die "unseen: " . $imap->LastError;

sub uid_of {
    my ($id) = @_;
    my @r = $imap->search('HEADER', 'Message-ID', $imap->Quote("<$id\@seed.petrel.test>"));
    die "search $id: " . ($imap->LastError // '') unless @r == 1;
    return $r[0];
}

my $subject_raw = $imap->subject(uid_of("m04-rfc2047"));
my $subject = decode('MIME-Header', $subject_raw);

my $m03 = uid_of("m03-attachments");
my $pdf_b64 = $imap->bodypart_string($m03, 2, 0, 0) or die "bodypart: " . $imap->LastError;
my $pdf = decode_base64($pdf_b64);
my @m03_flags = $imap->flags($m03);

my $big = $imap->message_string(uid_of("m06-big")) or die "message_string: " . $imap->LastError;

$imap->set_flag("\\Flagged", uid_of("m01-plain")) or die "set_flag: " . $imap->LastError;
$imap->copy("Archive", uid_of("m02-alternative")) or die "copy: " . $imap->LastError;
$imap->move("Projects/Alpha", uid_of("m07-lunch")) or die "move: " . $imap->LastError;
$imap->delete_message(uid_of("m08-reply")) or die "delete_message: " . $imap->LastError;
$imap->expunge or die "expunge: " . $imap->LastError;

open my $fh, '<:raw', $draft or die;
my $msg = do { local $/; <$fh> };
$imap->append_string("Entw&APw-rfe", $msg, "\\Draft") or die "append: " . $imap->LastError;
$imap->create("Library/A") or die "create: " . $imap->LastError;
$imap->rename("Library/A", "Library/B") or die "rename: " . $imap->LastError;
$imap->delete("Projects/Alpha/Archiv 2025") or die "delete: " . $imap->LastError;
$imap->logout;

print JSON::PP->new->canonical->encode({
    folders => \@folders, unseen => [map { $_ + 0 } @$unseen], subject => $subject,
    pdf_sha256 => sha256_hex($pdf), big_size => length($big), m03_flags => \@m03_flags,
}), "\n";
