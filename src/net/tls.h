#ifndef PETREL_TLS_H
#define PETREL_TLS_H

/* The server's TLS context. One context is shared by all worker threads
 * (OpenSSL SSL_CTX is thread-safe for creating connections); SIGHUP builds a
 * new one from the same files and swaps it in, so new connections get the
 * new certificate while open ones keep theirs. */

#include <stdbool.h>

#include <openssl/ssl.h>

/* Loads cert/key. When both are NULL, uses data_dir/tls/petrel.{crt,key},
 * making a self-signed pair for "localhost" there on first start. */
bool tls_init(const char *cert_path, const char *key_path, const char *data_dir,
	      const char **error_r);
/* Rebuilds the context from the same files. On failure the old one stays. */
bool tls_reload(const char **error_r);
/* A reference to the current context; release it with SSL_CTX_free(). */
SSL_CTX *tls_context_get(void);
void tls_deinit(void);

/* Makes a self-signed certificate and key (RSA 2048, SHA-256, CN given,
 * subjectAltName DNS:CN + IP:127.0.0.1 + IP:::1), written with mode 0600. */
bool tls_make_self_signed(const char *cert_path, const char *key_path,
			  const char *common_name, const char **error_r);

#endif
