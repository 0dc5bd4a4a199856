{{/* Chart name, truncated to the 63 characters Kubernetes allows in names. */}}
{{- define "mayfly.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart unless the release name already contains it. */}}
{{- define "mayfly.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mayfly.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mayfly.labels" -}}
helm.sh/chart: {{ include "mayfly.chart" . }}
{{ include "mayfly.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mayfly.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mayfly.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mayfly.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mayfly.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The chart's own Secret (database URL, master key) when values carry them. */}}
{{- define "mayfly.secretName" -}}
{{- include "mayfly.fullname" . }}
{{- end }}

{{- define "mayfly.chartSecretNeeded" -}}
{{- if or (and .Values.database.url (not .Values.database.existingSecret)) (and .Values.masterKey.value (not .Values.masterKey.existingSecret)) }}true{{- end }}
{{- end }}

{{- define "mayfly.databaseConfigured" -}}
{{- if or .Values.database.url .Values.database.existingSecret }}true{{- end }}
{{- end }}

{{- define "mayfly.masterKeyConfigured" -}}
{{- if or .Values.masterKey.value .Values.masterKey.existingSecret }}true{{- end }}
{{- end }}

{{/* TLS: "" (plain HTTP), "existing", "values" or "generated". */}}
{{- define "mayfly.tlsSource" -}}
{{- if .Values.tls.insecurePlainHttp }}
{{- else if .Values.tls.existingSecret }}existing
{{- else if and .Values.tls.cert .Values.tls.key }}values
{{- else if .Values.tls.generate }}generated
{{- end }}
{{- end }}

{{- define "mayfly.tlsSecretName" -}}
{{- if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "mayfly.fullname" .) }}
{{- end }}
{{- end }}

{{- define "mayfly.scheme" -}}
{{- if .Values.tls.insecurePlainHttp }}HTTP{{ else }}HTTPS{{ end }}
{{- end }}

{{/*
Refuses configurations that would run but be wrong. Several gateways need one shared
database (SQLite is a file inside one pod), one master key (each pod would generate its own
and could not open the others' secrets) and one certificate (each pod would generate its own
CA, so clients could trust only one of them).
*/}}
{{- define "mayfly.validate" -}}
{{- $several := or (gt (int .Values.replicaCount) 1) .Values.hpa.enabled }}
{{- if $several }}
{{- if not (include "mayfly.databaseConfigured" .) }}
{{- fail "mayfly: replicaCount > 1 (or hpa.enabled) needs PostgreSQL: set database.url or database.existingSecret. SQLite is a file inside one pod and cannot be shared." }}
{{- end }}
{{- if not (include "mayfly.masterKeyConfigured" .) }}
{{- fail "mayfly: replicaCount > 1 (or hpa.enabled) needs one shared master key: set masterKey.value or masterKey.existingSecret (all gateways must have the same keys)." }}
{{- end }}
{{- if and (not .Values.tls.insecurePlainHttp) (not (include "mayfly.tlsSource" .)) }}
{{- fail "mayfly: replicaCount > 1 (or hpa.enabled) needs one shared certificate: set tls.existingSecret, tls.cert and tls.key, or tls.generate=true." }}
{{- end }}
{{- end }}
{{- if and .Values.hpa.enabled (lt (int .Values.hpa.maxReplicas) (int .Values.hpa.minReplicas)) }}
{{- fail "mayfly: hpa.maxReplicas must be at least hpa.minReplicas." }}
{{- end }}
{{- if and (or .Values.tls.cert .Values.tls.key) (not (and .Values.tls.cert .Values.tls.key)) }}
{{- fail "mayfly: set both tls.cert and tls.key, or neither." }}
{{- end }}
{{- end }}
