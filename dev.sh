#!/usr/bin/env bash
# Petrel's two do-everything commands for a fresh Debian 12 machine (as root):
#   ./dev.sh run    install what is missing, build, start on embedded defaults
#   ./dev.sh test   install, build (normal + ASan/UBSan + fuzz), run every test layer
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libevent-dev libssl-dev libsqlite3-dev libsodium-dev libinih-dev zlib1g-dev
  python3 python3-pytest python3-pytest-xdist openssl dovecot-imapd
  tmux curl isync offlineimap3 interimap fetchmail getmail6 imapfilter mutt neomutt s-nail mailutils
  alpine python3-imaplib2 libmail-imapclient-perl libmail-imaptalk-perl libnet-imap-simple-perl libnet-imap-client-perl
  libio-socket-ssl-perl php-cli php-imap ruby golang-go golang-github-emersion-go-imap-dev
  openjdk-17-jdk-headless libjakarta-mail-java nodejs
  roundcube-core roundcube-sqlite3 chromium
  postfix swaks inn2
  # A protocol test whose server stops answering prints its threads' stacks.
  gdb)

# Debian's inn2 (the real news server tests/proto/test_news.py runs from a
# configuration of its own) does not configure on a host whose name has no
# domain, as in containers: its postinst asks innconfval for paths, which
# refuses such a name. So it is installed first, on its own, and when that
# fails, configured again with a copy of its inn.conf that names a domain
# (INNCONF), leaving /etc/news as the package made it. The second try can
# stop at newaliases (an MTA installed without configuration) after adding
# the usenet alias, so there is a third.
install_inn2() {
  apt-get install -y -qq --no-install-recommends inn2 || true
  dpkg-query -W -f='${Status}' inn2 2>/dev/null | grep -q "install ok installed" && return 0
  local conf
  conf=$(mktemp)
  cp /etc/news/inn.conf "$conf"
  echo "domain: localdomain" >> "$conf"
  INNCONF=$conf dpkg --configure inn2 || INNCONF=$conf dpkg --configure inn2
  rm -f "$conf"
}

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Roundcube (client suite) brings its own SQLite database; keep its
    # package from setting one up in a system database server.
    echo "roundcube-core roundcube/dbconfig-install boolean false" | debconf-set-selections
    apt-get update -qq
    if [[ " ${missing[*]} " == *" inn2 "* ]]; then install_inn2; fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() { # build DIR [meson options...]
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
  ninja -C "$dir"
}

case "${1:-}" in
  run)
    install_deps
    build build
    mkdir -p var
    if ! ./build/petrel user list 2>/dev/null | grep -qx demo; then
      echo demo | ./build/petrel user add demo
    fi
    echo "Petrel: IMAP 127.0.0.1:1143, IMAPS 127.0.0.1:1993, user demo / demo"
    exec ./build/petrel serve
    ;;
  test)
    install_deps
    build build -Dwerror=true
    build build-asan -Dwerror=true -Dsanitize=true
    CC=clang build build-fuzz -Dfuzz=true
    exec /usr/bin/python3 tests/run_all.py --build build --asan build-asan --fuzz build-fuzz
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 64
    ;;
esac
