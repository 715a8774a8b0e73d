// Runs inside chromium (test/helpers/chromium.ts loads it into the page): measures what a person
// sees. Plain browser JavaScript, so the Node program's types stay free of the DOM's.
/* global window, document, getComputedStyle */

/** Renders an Adaptive Card with the adaptivecards renderer and measures the headline and buttons. */
window.tocsinRenderTeamsCard = ({ card, hostConfig }) => {
  const AC = window.AdaptiveCards;
  const adaptive = new AC.AdaptiveCard();
  adaptive.hostConfig = new AC.HostConfig(hostConfig);
  const context = new AC.SerializationContext();
  adaptive.parse(card, context);
  const errors = [];
  for (let index = 0; index < context.eventCount; index++) errors.push(String(context.getEventAt(index).message));
  const element = adaptive.render();
  if (element === undefined) return { errors: [...errors, 'render() returned nothing'], title: { text: '', color: '', background: '' }, buttons: [], textLinks: 0 };
  document.getElementById('host').appendChild(element);
  const first = element.querySelector('.ac-textBlock');
  let background = 'rgba(0, 0, 0, 0)';
  for (let node = first; node !== null; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') {
      background = colour;
      break;
    }
  }
  const cardRight = document.getElementById('host').getBoundingClientRect().right;
  const buttons = [...element.querySelectorAll('.ac-pushButton')].map((button) => ({
    text: button.innerText.trim(),
    // Cut: some part of the button has more text than room (text-overflow: ellipsis), or the
    // button runs past the card's edge (clipped).
    cut:
      button.getBoundingClientRect().right > cardRight + 1 ||
      [button, ...button.querySelectorAll('*')].some((part) => part.scrollWidth > part.clientWidth + 1),
  }));
  return {
    errors,
    title: { text: first.innerText, color: getComputedStyle(first).color, background },
    buttons,
    textLinks: element.querySelectorAll('.ac-textBlock a, .ac-factset a').length,
  };
};

/** The laid-out mail: document width against the viewport, and where the first link ends. */
window.tocsinMailLayout = () => {
  const link = document.querySelector('a');
  const rect = link === null ? undefined : link.getBoundingClientRect();
  return {
    scrollWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
    ...(rect === undefined ? {} : { firstActionBottom: rect.bottom, firstActionText: link.textContent }),
  };
};
