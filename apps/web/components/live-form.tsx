'use client';

import {
  createContext,
  useActionState,
  useContext,
  useEffect,
  useId,
  useState,
  type FormEvent,
  type ReactNode,
} from 'react';
import type { FormLabels, FormState } from '@/lib/form-state';

/**
 * A form that validates as you type (the browser's constraint validation, with translated
 * messages) and shows the API's field errors next to their fields. Submits to a Server Function
 * through `useActionState`; the button shows progress while it runs.
 */

interface Ctx {
  errors: Record<string, string>;
  values: Record<string, string>;
  formId: string;
}

const FormContext = createContext<Ctx>({ errors: {}, values: {}, formId: '' });

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function isControl(el: EventTarget | null): el is Control {
  return (
    el instanceof HTMLInputElement ||
    el instanceof HTMLSelectElement ||
    el instanceof HTMLTextAreaElement
  );
}

function messageFor(el: Control, l: FormLabels): string {
  const v = el.validity;
  if (v.valid) return '';
  if (v.valueMissing) return l.required;
  if (v.typeMismatch && el.type === 'email') return l.email;
  if (v.tooShort) return l.tooShort.replace('{n}', String(el.getAttribute('minlength') ?? ''));
  if (v.tooLong) return l.tooLong.replace('{n}', String(el.getAttribute('maxlength') ?? ''));
  if (v.rangeUnderflow || v.rangeOverflow || v.stepMismatch) {
    return l.range
      .replace('{min}', el.getAttribute('min') ?? '')
      .replace('{max}', el.getAttribute('max') ?? '');
  }
  return el.title || l.invalid;
}

export interface LiveFormProps {
  action: (state: FormState, form: FormData) => Promise<FormState>;
  labels: FormLabels;
  submit: string;
  pending: string;
  children: ReactNode;
  testId?: string;
  className?: string;
  /** Rendered after a successful answer that carries `result` (e.g. a secret shown once). */
  resultView?: (result: Record<string, string>) => ReactNode;
}

export function LiveForm(props: LiveFormProps) {
  const { action, labels, submit, pending: pendingLabel, children, testId, className } = props;
  const [state, formAction, pending] = useActionState<FormState, FormData>(action, {});
  const [live, setLive] = useState<Record<string, string>>({});
  const formId = useId();

  // A new answer from the server: its field errors win again until the user edits a field.
  useEffect(() => setLive({}), [state]);

  const onEdit = (event: FormEvent<HTMLFormElement>) => {
    const el = event.target;
    if (!isControl(el) || !el.name) return;
    const message = messageFor(el, labels);
    setLive((prev) => (prev[el.name] === message ? prev : { ...prev, [el.name]: message }));
  };

  const onInvalid = (event: FormEvent<HTMLFormElement>) => {
    const el = event.target;
    if (!isControl(el) || !el.name) return;
    event.preventDefault(); // our message, not the browser's bubble
    const message = messageFor(el, labels);
    setLive((prev) => ({ ...prev, [el.name]: message }));
  };

  const errors: Record<string, string> = { ...(state.fields ?? {}) };
  for (const [name, message] of Object.entries(live)) {
    if (message) errors[name] = message;
    else delete errors[name];
  }
  const hasErrors = Object.keys(errors).length > 0;
  const error = state.error;
  const title = error ? (labels.codes[error.code] ?? labels.title) : '';
  const message = error
    ? error.message || (error.code === 'unavailable' ? labels.unavailable : '')
    : '';

  return (
    <FormContext.Provider value={{ errors, values: state.values ?? {}, formId }}>
      <form
        action={formAction}
        className={className ?? 'stack'}
        data-testid={testId}
        onInput={onEdit}
        onChange={onEdit}
        onInvalid={onInvalid}
        aria-busy={pending}
        noValidate={false}
      >
        {children}
        {error ? (
          <div className="notice notice-error" role="alert" data-testid="form-error">
            <strong className="notice-title">{title}</strong>
            {message ? <p className="notice-body">{message}</p> : null}
            {error.correlationId ? (
              <p className="notice-ref">
                {labels.reference}: <code>{error.correlationId}</code>
              </p>
            ) : null}
          </div>
        ) : null}
        {state.notice ? (
          <p className="notice notice-ok" role="status" data-testid="form-notice">
            {state.notice}
          </p>
        ) : null}
        {hasErrors && !error ? (
          <p className="muted small" role="status">
            {labels.fixErrors}
          </p>
        ) : null}
        <div className="form-actions">
          <button type="submit" className="button" disabled={pending}>
            {pending ? pendingLabel : submit}
          </button>
          {pending ? <progress className="progress" aria-label={labels.working} /> : null}
        </div>
      </form>
      {state.result && props.resultView ? props.resultView(state.result) : null}
    </FormContext.Provider>
  );
}

/** The values the form was last submitted with (kept after an API error). */
export function useSubmittedValues(): Record<string, string> {
  return useContext(FormContext).values;
}

interface FieldProps {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password' | 'number' | 'url';
  required?: boolean;
  pattern?: string;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  inputMode?: 'text' | 'decimal' | 'numeric' | 'email';
  defaultValue?: string;
  hint?: string;
  /** The format message for `pattern` (also the input's title). */
  patternMessage?: string;
  autoComplete?: string;
  placeholder?: string;
  options?: { value: string; label: string }[];
  multiline?: boolean;
}

/** One labelled control with its live or API error (aria-invalid, aria-describedby). */
export function Field(p: FieldProps) {
  const { errors, values, formId } = useContext(FormContext);
  const id = `${formId}-${p.name.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
  const error = errors[p.name];
  const hintId = p.hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const describedBy = [hintId, error ? errorId : undefined].filter(Boolean).join(' ') || undefined;
  const value = values[p.name] ?? p.defaultValue;
  const common = {
    id,
    name: p.name,
    required: p.required,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
  };
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{p.label}</label>
      {p.options ? (
        <select {...common} defaultValue={value} key={value}>
          {p.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : p.multiline ? (
        <textarea
          {...common}
          defaultValue={value}
          maxLength={p.maxLength}
          minLength={p.minLength}
          rows={3}
        />
      ) : (
        <input
          {...common}
          type={p.type ?? 'text'}
          pattern={p.pattern}
          title={p.patternMessage}
          min={p.min}
          max={p.max}
          minLength={p.minLength}
          maxLength={p.maxLength}
          inputMode={p.inputMode}
          defaultValue={value}
          autoComplete={p.autoComplete}
          placeholder={p.placeholder}
        />
      )}
      {p.hint ? (
        <p className="hint" id={hintId}>
          {p.hint}
        </p>
      ) : null}
      <p className="field-error" id={errorId} aria-live="polite">
        {error ?? ''}
      </p>
    </div>
  );
}

/** Checkboxes sharing one name (e.g. roles); errors under the group. */
export function CheckGroup(p: {
  name: string;
  legend: string;
  options: { value: string; label: string; checked?: boolean }[];
}) {
  const { errors } = useContext(FormContext);
  const error = errors[p.name];
  return (
    <fieldset className={`field checks${error ? ' field-invalid' : ''}`}>
      <legend>{p.legend}</legend>
      {p.options.map((o) => (
        <label key={o.value} className="checkbox">
          <input type="checkbox" name={p.name} value={o.value} defaultChecked={o.checked} />
          <span>{o.label}</span>
        </label>
      ))}
      <p className="field-error" aria-live="polite">
        {error ?? ''}
      </p>
    </fieldset>
  );
}
