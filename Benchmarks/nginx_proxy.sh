# Sourced by the benchmarks that compare with nginx: start_nginx_proxy WORKDIR MODEL_PORT starts
# nginx (2 workers, keep-alive upstream pool of 64, no access log) as a reverse proxy in front of
# the model server on MODEL_PORT and sets NGINX_PORT. The caller's cleanup kills $WORKDIR/nginx.pid.
start_nginx_proxy() {
  local work=$1 model=$2
  NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
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
  nginx -c "$work/nginx.conf" -p "$work"
  sleep 0.3
}
