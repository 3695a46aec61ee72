<?php
// Roundcube configuration for Petrel's client suite (tests/clients/test_roundcube.py).
//
// The test serves Debian's Roundcube (/var/lib/roundcube/public_html) with
// PHP's built-in web server and points ROUNDCUBE_CONFIG_DIR at a private
// folder in its temporary directory. That folder holds a link to this file
// as config.inc.php, and links to Debian's defaults.inc.php and
// mimetypes.php, so nothing under /etc/roundcube or /var/lib/roundcube is
// read for settings or written to. The values that change from run to run
// come from the environment of the PHP server:
//   PETREL_RC_DIR        private folder: SQLite database, logs/, temp/
//   PETREL_RC_IMAP_PORT  the suite's Petrel, implicit TLS (IMAPS)
//   PETREL_RC_CA         Petrel's self-signed certificate, trusted as a CA

$petrel_rc_dir = getenv('PETREL_RC_DIR');
if (!$petrel_rc_dir || !getenv('PETREL_RC_IMAP_PORT') || !getenv('PETREL_RC_CA')) {
    // Refuse to run on Debian's defaults (localhost:143, /var/lib/roundcube).
    http_response_code(500);
    exit("PETREL_RC_DIR, PETREL_RC_IMAP_PORT and PETREL_RC_CA must be set\n");
}

$config = [];

// Storage of Roundcube's own data (users, sessions, caches): a SQLite file
// that Roundcube creates with its schema on first use.
$config['db_dsnw'] = 'sqlite:///' . $petrel_rc_dir . '/roundcube.db?mode=0600';
$config['log_driver'] = 'file';
$config['log_dir'] = $petrel_rc_dir . '/logs/';
$config['temp_dir'] = $petrel_rc_dir . '/temp/';
// The whole IMAP conversation goes to logs/imap.log: the test shows it when
// the scenario fails.
$config['imap_debug'] = true;

// IMAP over implicit TLS, with the host name and the certificate verified.
$config['imap_host'] = 'ssl://localhost:' . getenv('PETREL_RC_IMAP_PORT');
$config['imap_conn_options'] = [
    'ssl' => [
        'verify_peer' => true,
        'verify_peer_name' => true,
        'peer_name' => 'localhost',
        'cafile' => getenv('PETREL_RC_CA'),
    ],
];
$config['imap_timeout'] = 60;
// No SMTP: the scenario sends no mail.
$config['smtp_host'] = '';

// A fixed key is fine for a throw-away installation on loopback.
$config['des_key'] = 'petrel-client-suite-key!';
$config['product_name'] = 'Roundcube Webmail';
$config['support_url'] = '';
$config['plugins'] = [];
$config['skin'] = 'elastic';
$config['language'] = 'en_US';
$config['timezone'] = 'UTC';
$config['enable_spellcheck'] = false;
$config['session_lifetime'] = 60;

// Roundcube's defaults for what the scenario exercises, stated so that a
// change of Debian's defaults cannot silently change what the test checks:
// a message shown in the preview is marked read at once, after a move or a
// delete the next message is shown, and "delete" moves a message to Trash.
$config['mail_read_time'] = 0;
$config['display_next'] = true;
$config['trash_mbox'] = 'Trash';
$config['flag_for_deletion'] = false;
$config['skip_deleted'] = false;
$config['delete_junk'] = false;
$config['layout'] = 'widescreen';
$config['messages_cache'] = false;
$config['imap_cache'] = null;
