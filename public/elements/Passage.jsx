// The side panel of one source passage: its text first, the runs the answer quotes marked, then its details
// on one line. Every string comes from the index as props: React shows it as text, never as HTML.
export default function Passage() {
  const segments = props.segments || [];
  const source = props.source || {};
  const firstMark = (element) => {
    if (element) element.scrollIntoView({ block: 'nearest' });
  };
  let marked = false;
  return (
    <div className="passage-panel flex flex-col gap-3">
      <div className="passage-text text-sm leading-relaxed" style={{ whiteSpace: 'pre-line' }}>
        {segments.map((segment, i) => {
          if (!segment.mark) return <span key={i}>{segment.text}</span>;
          const first = !marked;
          marked = true;
          return (
            <mark key={i} ref={first ? firstMark : undefined}
                  style={{ background: '#fde68a', color: 'inherit', borderRadius: '2px', padding: '0 1px' }}>
              {segment.text}
            </mark>
          );
        })}
      </div>
      <div className="passage-details text-xs text-muted-foreground border-t pt-2">
        {props.details}
        {props.themes ? <span> · Thèmes : {props.themes}</span> : null}
        <span> · Source : </span>
        {source.href
          ? <a href={source.href} target="_blank" rel="noopener noreferrer" className="underline break-all">{source.label}</a>
          : <code className="break-all">{source.label}</code>}
        {props.sample ? <div className="italic mt-1">{props.sample}</div> : null}
      </div>
    </div>
  );
}
