{{/* The release's full name, at most 63 characters (a DNS label). */}}
{{- define "gatehouse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select this release's pods. */}}
{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "gatehouse.labels" -}}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "gatehouse.serviceAccountName" -}}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "gatehouse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The issuer's path prefix ("" for an origin, "/auth" for https://example.com/auth): everything
Gatehouse serves, the probes' /healthz and /readyz included, lives under it.
*/}}
{{- define "gatehouse.basePath" -}}
{{- (urlParse (required "issuer is required (the public https URL)" .Values.issuer)).path | trimSuffix "/" -}}
{{- end -}}

{{/* Environment shared by the server and the migration Job: issuer, config file, secrets by reference. */}}
{{- define "gatehouse.env" -}}
- name: ISSUER
  value: {{ required "issuer is required (the public https URL)" .Values.issuer | quote }}
- name: GATEHOUSE_CONFIG
  value: /etc/gatehouse/config.yaml
- name: TRUSTED_PROXY_HOPS
  value: {{ .Values.trustedProxyHops | quote }}
- name: SHUTDOWN_GRACE_SECONDS
  value: {{ .Values.shutdownGraceSeconds | quote }}
- name: METRICS_ENABLED
  value: {{ .Values.metrics.enabled | quote }}
- name: METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.existingSecret is required" .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.databaseUrlKey }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.redisUrlKey }}
- name: KEY_ENCRYPTION_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keyEncryptionSecretKey }}
{{- if .Values.secrets.smtpUrlKey }}
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.smtpUrlKey }}
{{- end }}
{{- end -}}
