{{/* Names, labels and references shared by the templates. */}}

{{- define "company-exports.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-company-exports", shortened to the release name when it holds the chart name. */}}
{{- define "company-exports.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of one component's objects: (dict "root" $ "component" "api"). */}}
{{- define "company-exports.componentName" -}}
{{- printf "%s-%s" (include "company-exports.fullname" .root | trunc 52 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "company-exports.selectorLabels" -}}
app.kubernetes.io/name: {{ include "company-exports.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of every object: (dict "root" $ "component" "api"). */}}
{{- define "company-exports.labels" -}}
{{ include "company-exports.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: company-exports
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The image reference, the same for every container. */}}
{{- define "company-exports.image" -}}
{{- include "company-exports.imageReference" (dict "root" . "image" .Values.image) -}}
{{- end -}}

{{/* The export Jobs' image: exporter.image, or the chart's image when its repository is empty. */}}
{{- define "company-exports.exporterImage" -}}
{{- if .Values.exporter.image.repository -}}
{{- include "company-exports.imageReference" (dict "root" . "image" .Values.exporter.image) -}}
{{- else -}}
{{- include "company-exports.image" . -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag, or registry/repository@digest when the digest is set:
(dict "root" $ "image" (dict "repository" "..." "tag" "..." "digest" "...")). */}}
{{- define "company-exports.imageReference" -}}
{{- $name := .image.repository -}}
{{- with .root.Values.image.registry -}}
{{- $name = printf "%s/%s" (trimSuffix "/" .) $name -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $name .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $name (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* A component's ServiceAccount name: (dict "root" $ "component" "api" "values" .Values.api). */}}
{{- define "company-exports.serviceAccountName" -}}
{{- if .values.serviceAccount.create -}}
{{- default (include "company-exports.componentName" .) .values.serviceAccount.name -}}
{{- else -}}
{{- required (printf "%s.serviceAccount.name is required when %s.serviceAccount.create is false: name an existing ServiceAccount" .component .component) .values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "company-exports.databaseSecretName" -}}
{{- if .Values.database.existingSecret -}}
{{- .Values.database.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "company-exports.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "company-exports.s3SecretName" -}}
{{- if .Values.s3.existingSecret -}}
{{- .Values.s3.existingSecret -}}
{{- else -}}
{{- printf "%s-s3" (include "company-exports.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The variables the operator sets on each export Job itself (its RESERVED_EXPORTER_ENV), as
a JSON list: exporter.settings may not set them, and the Jobs' admission policy allows only these
and exporter.settings. */}}
{{- define "company-exports.operatorJobEnv" -}}
{{- toJson (list "EXPORT_ID" "SPACE_ID" "RANGE_START" "RANGE_END" "EXPORT_DATE_FIELD" "EXPORT_BUCKET" "OBJECT_KEY" "EXPORT_SHARDS" "S3_ENDPOINT_URL" "AWS_DEFAULT_REGION" "TERMINATION_MESSAGE_PATH" "DATABASE_URL" "AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY") -}}
{{- end -}}

{{/* Environment entries for the S3 connection and keys, shared by the API and the operator. */}}
{{- define "company-exports.s3Env" -}}
- name: EXPORT_BUCKET
  value: {{ required "s3.bucket is required: the name of the private bucket for export files" .Values.s3.bucket | quote }}
{{- with .Values.s3.endpointUrl }}
- name: S3_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
- name: AWS_DEFAULT_REGION
  value: {{ .Values.s3.region | quote }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "company-exports.s3SecretName" . }}
      key: {{ .Values.s3.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "company-exports.s3SecretName" . }}
      key: {{ .Values.s3.secretAccessKeyKey }}
{{- end -}}

{{- define "company-exports.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "company-exports.databaseSecretName" . }}
      key: {{ .Values.database.urlKey }}
{{- end -}}

{{/* Pod-level fields every Deployment shares: (dict "root" $ "values" .Values.api). */}}
{{- define "company-exports.podCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
enableServiceLinks: false
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  # The root filesystem is read-only; this is the only writable place.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end -}}

{{/* A checksum of what the Pods read at start, so `helm upgrade` rolls them when it changes. */}}
{{- define "company-exports.configChecksum" -}}
{{- $config := include (print .root.Template.BasePath "/" .component "/configmap.yaml") .root -}}
{{- $secrets := include (print .root.Template.BasePath "/secrets.yaml") .root -}}
{{- printf "%s\n%s" $config $secrets | sha256sum -}}
{{- end -}}

{{/* A Deployment strategy; rollingUpdate only with RollingUpdate (values merge it in otherwise). */}}
{{- define "company-exports.strategy" -}}
type: {{ .type }}
{{- if and (eq .type "RollingUpdate") .rollingUpdate }}
rollingUpdate:
  {{- toYaml .rollingUpdate | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Where the dispatcher's Pods mount webhooks.caBundle (read-only), and the file in it. */}}
{{- define "company-exports.webhooksCaBundleDir" -}}
/etc/export-webhooks/ca
{{- end -}}

{{- define "company-exports.webhooksCaBundlePath" -}}
{{- printf "%s/ca.crt" (include "company-exports.webhooksCaBundleDir" .) -}}
{{- end -}}
