/** What the Server Functions behind `<LiveForm>` answer (see components/live-form.tsx). */

export interface FormApiError {
  code: string;
  message: string;
  correlationId?: string;
}

export interface FormState {
  /** The API's (or the action's) error, shown above the submit button. */
  error?: FormApiError;
  /** Field errors by field name (the API's `details.issues[].path`). */
  fields?: Record<string, string>;
  /** The submitted values, so that the form keeps them after an error. */
  values?: Record<string, string>;
  /** A success message (when the action does not redirect). */
  notice?: string;
  /** Data to show once (e.g. an agent's private key and command). */
  result?: Record<string, string>;
}

/** Client-side messages for the browser's constraint validation, and the form chrome. */
export interface FormLabels {
  required: string;
  invalid: string;
  tooShort: string;
  tooLong: string;
  range: string;
  email: string;
  fixErrors: string;
  working: string;
  /** Error titles by API error code, the fallback title, "Reference", "unavailable". */
  codes: Record<string, string>;
  title: string;
  reference: string;
  unavailable: string;
}
