#!/usr/bin/perl
# The library scenario (see clientlib.py) with Net::IMAP::Client (UID mode).
# It has no rename method: RENAME goes through its generic command path.
use strict;
use warnings;
use Net::IMAP::Client;
use MIME::Base64;
use Digest::SHA qw(sha256_hex);
use Encode qw(decode);
use JSON::PP;

my ($host, $port, $ca, $user, $pass, $draft) = @ARGV;
my $imap = Net::IMAP::Client->new(server => $host, port => $port, ssl => 1,
    ssl_verify_peer => 1, user => $user, pass => $pass,
    # Its documented ssl_ca_file argument is dropped by new() (0.9507): give
    # IO::Socket::SSL the CA file directly.
    ssl_options => { SSL_ca_file => $ca, SSL_verifycn_name => $host, SSL_verifycn_scheme => 'imap' },
    timeout => 60) or die "connect: $@";
$imap->login or die "login: " . $imap->last_error;
sub ok { my ($r, $what) = @_; die "$what: " . ($imap->last_error // '?') unless $r; $r }

my @folders = $imap->folders;
ok($imap->select("INBOX"), "select");
my $unseen = ok($imap->search('UNSEEN'), "search");

sub uid_of {
    my ($id) = @_;
    my $r = ok($imap->search(qq{HEADER Message-ID "<$id\@seed.petrel.test>"}), "search $id");
    die "search $id: @$r" unless @$r == 1;
    return $r->[0];
}

my $sum = ok($imap->get_summaries(uid_of("m04-rfc2047")), "summaries")->[0];
my $subject = $sum->subject;
$subject = decode('MIME-Header', $subject) if $subject =~ /=\?/;

my $m03 = uid_of("m03-attachments");
my $pdf = decode_base64(${ ok($imap->get_part_body($m03, '2'), "part") });
my $m03_flags = ok($imap->get_flags($m03), "flags");
my $big = ok($imap->get_rfc822_body(uid_of("m06-big")), "rfc822");

ok($imap->add_flags(uid_of("m01-plain"), '\\Flagged'), "add_flags");
ok($imap->copy(uid_of("m02-alternative"), "Archive"), "copy");
my $m07 = uid_of("m07-lunch");
ok($imap->copy($m07, "Projects/Alpha"), "copy");
ok($imap->delete_message($m07), "delete");
ok($imap->delete_message(uid_of("m08-reply")), "delete");
ok($imap->expunge, "expunge");

open my $fh, '<:raw', $draft or die;
my $d = do { local $/; <$fh> };
ok($imap->append("Entw&APw-rfe", \$d, ['\\Draft']), "append");
ok($imap->create_folder("Library/A"), "create");
ok($imap->_tell_imap(RENAME => '"Library/A" "Library/B"', 1), "rename");
ok($imap->delete_folder("Projects/Alpha/Archiv 2025"), "delete_folder");
$imap->logout;

print JSON::PP->new->canonical->encode({
    folders => \@folders, unseen => [map { $_ + 0 } @$unseen], subject => $subject,
    pdf_sha256 => sha256_hex($pdf), big_size => length($$big), m03_flags => $m03_flags,
}), "\n";
