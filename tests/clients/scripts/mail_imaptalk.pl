#!/usr/bin/perl
# The library scenario (see clientlib.py) with Mail::IMAPTalk, with its
# unicode folder names on (it converts to and from modified UTF-7 itself).
use strict;
use warnings;
use Mail::IMAPTalk;
use IO::Socket::SSL;
use MIME::Base64;
use Digest::SHA qw(sha256_hex);
use Encode qw(decode encode);
use JSON::PP;

my ($host, $port, $ca, $user, $pass, $draft) = @ARGV;
my $imap = Mail::IMAPTalk->new(
    Server => $host, Port => $port, UseSSL => 1,
    SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => $ca, SSL_verifycn_name => $host,
    Username => $user, Password => $pass, Uid => 1, UseBlocking => 1,
) or die "connect/login: $@";
$imap->set_unicode_folders(1);

sub ok { my ($r, $what) = @_; die "$what: " . ($imap->get_last_error // '?') unless defined $r; $r }

my @list = $imap->list("", "*") or die "list: " . $imap->get_last_error;
my @folders = map { $_->[2] } @list;

ok($imap->select("INBOX"), "select");
my @unseen = $imap->search('unseen');
die "search: " . $imap->get_last_error unless defined $imap->get_last_completion_response;

sub uid_of {
    my ($id) = @_;
    my @r = $imap->search('header', 'message-id', "<$id\@seed.petrel.test>");
    die "search $id: @r " . ($imap->get_last_error // '') unless @r == 1;
    return $r[0];
}

my $m04 = uid_of("m04-rfc2047");
my $env = ok($imap->fetch($m04, 'envelope'), "fetch envelope")->{$m04}{envelope};
my $subject = $env->{Subject};
$subject = decode('MIME-Header', $subject) if $subject =~ /=\?/;

my $m03 = uid_of("m03-attachments");
my $part = ok($imap->fetch($m03, 'body.peek[2]'), "fetch part")->{$m03};
my ($pdf_b64) = grep { defined } map { $part->{$_} } grep { /^body/ } keys %$part;
my $pdf = decode_base64($pdf_b64);
my $flags = ok($imap->fetch($m03, 'flags'), "fetch flags")->{$m03}{flags};

my $m06 = uid_of("m06-big");
my $big = ok($imap->fetch($m06, 'rfc822'), "fetch rfc822")->{$m06}{rfc822};

ok($imap->store(uid_of("m01-plain"), '+flags', '(\\Flagged)'), "store");
ok($imap->copy(uid_of("m02-alternative"), "Archive"), "copy");
ok($imap->move(uid_of("m07-lunch"), "Projects/Alpha"), "move");
ok($imap->store(uid_of("m08-reply"), '+flags', '(\\Deleted)'), "store deleted");
ok($imap->expunge(), "expunge");

open my $fh, '<:raw', $draft or die;
my $msg = do { local $/; <$fh> };
ok($imap->append(decode('UTF-8', "Entwürfe"), '(\\Draft)', { Literal => $msg }), "append");
ok($imap->create("Library/A"), "create");
ok($imap->rename("Library/A", "Library/B"), "rename");
ok($imap->delete("Projects/Alpha/Archiv 2025"), "delete");
$imap->logout;

print JSON::PP->new->canonical->utf8->encode({
    folders => \@folders, unseen => [map { $_ + 0 } @unseen], subject => $subject,
    pdf_sha256 => sha256_hex($pdf), big_size => length($big), m03_flags => $flags,
}), "\n";
