# Config lexer benchmark: parse time of a generated 10,000-instance / 2,000x20 virtual-server keepalived.conf.
.PHONY: bench-config-parse
bench-config-parse: deps
	$(BUN) bench/config-parse/run.ts
