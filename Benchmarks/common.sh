# Sourced by the benchmarks that run a stack and compare with nginx.
#
# bench_environment STACK: a temporary state folder ($WORK, $MLGW_STATE_DIR) and a cleanup on exit
# that stops nginx (if started), destroys STACK and removes the folder.
# start_nginx_proxy MODEL_PORT: nginx (2 workers, keep-alive upstream pool of 64, no access log) as
# a reverse proxy in front of the model server on MODEL_PORT; sets NGINX_PORT.
BIN=.build/release/mlgw-deploy

bench_environment() {
  BENCH_STACK=$1
  WORK=$(mktemp -d)
  export MLGW_STATE_DIR="$WORK/state"
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  "$BIN" destroy "$BENCH_STACK" --auto-approve >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

start_nginx_proxy() {
  local model=$1
  NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream model { server 127.0.0.1:$model; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://model; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
  nginx -c "$WORK/nginx.conf" -p "$WORK"
  sleep 0.3
}
