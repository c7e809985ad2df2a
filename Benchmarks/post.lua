wrk.method = "POST"
wrk.body = "12,80.5,3"
wrk.headers["Content-Type"] = "text/csv"
