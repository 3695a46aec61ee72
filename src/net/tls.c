#include "net/tls.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *tls_current;
static char *tls_cert_path, *tls_key_path;
static char tls_error_text[4400];

static const char *tls_openssl_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[160] = "unknown error";
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(tls_error_text, sizeof(tls_error_text), "%s: %s", what, reason);
	return tls_error_text;
}

static SSL_CTX *tls_context_new(const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = tls_openssl_error("SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Renegotiation is a DoS vector and no IMAP client needs it. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, tls_cert_path) != 1) {
		*error_r = tls_openssl_error(tls_cert_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, tls_key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = tls_openssl_error(tls_key_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool tls_write_pem(const char *path, bool is_key, EVP_PKEY *pkey, X509 *cert,
			  const char **error_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(tls_error_text, sizeof(tls_error_text), "%s: %s", path, strerror(errno));
		*error_r = tls_error_text;
		return false;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		*error_r = "fdopen failed";
		return false;
	}
	int ok = is_key ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
			: PEM_write_X509(f, cert);
	if (fclose(f) != 0 || ok != 1) {
		*error_r = tls_openssl_error(path);
		return false;
	}
	return true;
}

static bool tls_add_san(X509 *cert, const char *common_name)
{
	char san[300];
	snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1,IP:::1", common_name);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL)
		return false;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1;
}

bool tls_make_self_signed(const char *cert_path, const char *key_path,
			  const char *common_name, const char **error_r)
{
	bool ok = false;
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	X509 *cert = X509_new();
	if (pkey == NULL || cert == NULL) {
		*error_r = tls_openssl_error("key generation");
		goto out;
	}
	X509_set_version(cert, 2);
	unsigned char serial[8];
	FILE *ur = fopen("/dev/urandom", "rb");
	if (ur == NULL || fread(serial, 1, sizeof(serial), ur) != sizeof(serial))
		memset(serial, 0x5a, sizeof(serial));
	if (ur != NULL)
		fclose(ur);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
	X509_set_pubkey(cert, pkey);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Petrel", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)common_name, -1, -1, 0);
	X509_set_issuer_name(cert, name);
	if (!tls_add_san(cert, common_name) || X509_sign(cert, pkey, EVP_sha256()) == 0) {
		*error_r = tls_openssl_error("certificate signing");
		goto out;
	}
	/* Key first: a certificate without its key is useless, and a crash
	 * between the two writes then leaves the pair to be made again. */
	ok = tls_write_pem(key_path, true, pkey, NULL, error_r) &&
	     tls_write_pem(cert_path, false, NULL, cert, error_r);
out:
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return ok;
}

static bool tls_ensure_default_pair(const char *data_dir, const char **error_r)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tls", data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(tls_error_text, sizeof(tls_error_text), "mkdir %s: %s", dir, strerror(errno));
		*error_r = tls_error_text;
		return false;
	}
	size_t n = strlen(dir) + 16;
	tls_cert_path = xmalloc(n);
	tls_key_path = xmalloc(n);
	snprintf(tls_cert_path, n, "%s/petrel.crt", dir);
	snprintf(tls_key_path, n, "%s/petrel.key", dir);
	if (access(tls_cert_path, R_OK) == 0 && access(tls_key_path, R_OK) == 0)
		return true;
	log_event(LOG_INFO, NULL, "tls_self_signed", "cert=%s", tls_cert_path);
	return tls_make_self_signed(tls_cert_path, tls_key_path, "localhost", error_r);
}

bool tls_init(const char *cert_path, const char *key_path, const char *data_dir,
	      const char **error_r)
{
	if ((cert_path == NULL) != (key_path == NULL)) {
		*error_r = "tls cert and key must be configured together";
		return false;
	}
	if (cert_path != NULL) {
		tls_cert_path = xstrdup(cert_path);
		tls_key_path = xstrdup(key_path);
	} else if (!tls_ensure_default_pair(data_dir, error_r)) {
		return false;
	}
	SSL_CTX *ctx = tls_context_new(error_r);
	if (ctx == NULL)
		return false;
	pthread_mutex_lock(&tls_lock);
	tls_current = ctx;
	pthread_mutex_unlock(&tls_lock);
	return true;
}

bool tls_reload(const char **error_r)
{
	SSL_CTX *ctx = tls_context_new(error_r);
	if (ctx == NULL)
		return false;
	pthread_mutex_lock(&tls_lock);
	SSL_CTX *old = tls_current;
	tls_current = ctx;
	pthread_mutex_unlock(&tls_lock);
	SSL_CTX_free(old);
	return true;
}

SSL_CTX *tls_context_get(void)
{
	pthread_mutex_lock(&tls_lock);
	SSL_CTX *ctx = tls_current;
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&tls_lock);
	return ctx;
}

void tls_deinit(void)
{
	pthread_mutex_lock(&tls_lock);
	SSL_CTX_free(tls_current);
	tls_current = NULL;
	pthread_mutex_unlock(&tls_lock);
	free(tls_cert_path);
	free(tls_key_path);
	tls_cert_path = tls_key_path = NULL;
}
